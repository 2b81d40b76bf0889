// Package owner is kube-dev-lab's admission plugin of Chapter 7.3 (the book's 3.3.3 walks through
// the same steps): compiled into kube-apiserver, registered in its plugin list and order, off
// until --enable-admission-plugins names it.
//
// It handles ConfigMaps labelled admission.kubelab.dev/by=plugin (the lab's webhooks handle
// by=webhook and its admission policies by=policy, with the same two rules):
//   - mutating, on CREATE: the annotation admission.kubelab.dev/owner defaults to the user who
//     creates the ConfigMap;
//   - validating, on CREATE and UPDATE: no data or binaryData key may contain "password"
//     (any case): such a value belongs in a Secret.
//
// In-tree plugins see kube-apiserver's internal types (k8s.io/kubernetes/pkg/apis/core), not v1.
package owner

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	api "k8s.io/kubernetes/pkg/apis/core"
)

const (
	// PluginName is the name --enable-admission-plugins takes.
	PluginName = "KubelabOwner"
	// ByLabel selects the mechanism that handles a ConfigMap; this plugin's value is Mine.
	ByLabel = "admission.kubelab.dev/by"
	Mine    = "plugin"
	// OwnerAnnotation is defaulted to the creating user.
	OwnerAnnotation = "admission.kubelab.dev/owner"
	// Forbidden is the word no key may contain.
	Forbidden = "password"
)

// Register adds the plugin to kube-apiserver's registry (called from RegisterAllAdmissionPlugins).
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(config io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin is both a mutating and a validating admission plugin.
type Plugin struct {
	*admission.Handler
}

var _ admission.MutationInterface = &Plugin{}
var _ admission.ValidationInterface = &Plugin{}

// New makes the plugin; it handles CREATE and UPDATE.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

// configMap is the request's ConfigMap when this plugin is to handle it, else nil.
func configMap(a admission.Attributes) (*api.ConfigMap, error) {
	if a.GetSubresource() != "" || a.GetResource().GroupResource() != api.Resource("configmaps") {
		return nil, nil
	}
	cm, ok := a.GetObject().(*api.ConfigMap)
	if !ok {
		return nil, apierrors.NewBadRequest("resource was marked with kind ConfigMap but was unable to be converted")
	}
	if cm.Labels[ByLabel] != Mine {
		return nil, nil
	}
	return cm, nil
}

// Admit defaults the owner annotation on CREATE.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetOperation() != admission.Create {
		return nil
	}
	cm, err := configMap(a)
	if cm == nil || err != nil {
		return err
	}
	if _, set := cm.Annotations[OwnerAnnotation]; set {
		return nil
	}
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[OwnerAnnotation] = a.GetUserInfo().GetName()
	return nil
}

// Validate refuses a key that names a password, the first in sorted order.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	cm, err := configMap(a)
	if cm == nil || err != nil {
		return err
	}
	keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	for k := range cm.BinaryData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(strings.ToLower(k), Forbidden) {
			return admission.NewForbidden(a, fmt.Errorf("key %q looks like a password: put it in a Secret", k))
		}
	}
	return nil
}
