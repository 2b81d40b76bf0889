/*
kube-dev-lab, Chapter 9: what the book's author patched into the kubelet, written for Kubernetes 1.37.

The kubelet reads /var/lib/kubelet/kubelab.json (or the file $KUBELAB_KUBELET_CONFIG names) at every
node status update:

	{"cpuRatio": 2, "memoryRatio": 1.5,
	 "condition": {"status": "True", "reason": "LabSaysSo", "message": "..."}}

cpuRatio and memoryRatio scale the CPU and memory capacity cAdvisor reports (so the allocatable
too, which is capacity minus the reservations); 0 or absent leaves a resource as it is. condition
sets the node condition KubelabHealthy; absent, the condition goes. No file: an unpatched kubelet.
An unreadable file leaves the capacity as cAdvisor reports it and makes the condition Unknown,
saying why.
*/

package nodestatus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

const (
	// KubelabConfigEnv names another configuration file than KubelabConfigFile.
	KubelabConfigEnv = "KUBELAB_KUBELET_CONFIG"
	// KubelabConfigFile holds the ratios and the condition.
	KubelabConfigFile = "/var/lib/kubelet/kubelab.json"
	// KubelabConditionType is the node condition the file sets.
	KubelabConditionType v1.NodeConditionType = "KubelabHealthy"
)

type kubelabCondition struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type kubelabConfig struct {
	CPURatio    float64           `json:"cpuRatio"`
	MemoryRatio float64           `json:"memoryRatio"`
	Condition   *kubelabCondition `json:"condition"`
}

// kubelabReadConfig returns nil, nil when there is no file.
func kubelabReadConfig() (*kubelabConfig, error) {
	path := os.Getenv(KubelabConfigEnv)
	if path == "" {
		path = KubelabConfigFile
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg := &kubelabConfig{}
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.CPURatio < 0 || cfg.MemoryRatio < 0 {
		return nil, fmt.Errorf("%s: ratios cannot be negative (cpuRatio %v, memoryRatio %v)", path, cfg.CPURatio, cfg.MemoryRatio)
	}
	return cfg, nil
}

// kubelabScaleCapacity multiplies the CPU and memory capacity by the configured ratios.
func kubelabScaleCapacity(logger klog.Logger, capacity v1.ResourceList) {
	cfg, err := kubelabReadConfig()
	if err != nil {
		logger.Error(err, "kube-dev-lab: allocation ratios not applied")
		return
	}
	if cfg == nil {
		return
	}
	if q, ok := capacity[v1.ResourceCPU]; ok && cfg.CPURatio > 0 {
		capacity[v1.ResourceCPU] = *resource.NewMilliQuantity(int64(float64(q.MilliValue())*cfg.CPURatio), resource.DecimalSI)
	}
	if q, ok := capacity[v1.ResourceMemory]; ok && cfg.MemoryRatio > 0 {
		capacity[v1.ResourceMemory] = *resource.NewQuantity(int64(float64(q.Value())*cfg.MemoryRatio), resource.BinarySI)
	}
}

// KubelabCondition returns a Setter of the KubelabHealthy condition, following the file.
func KubelabCondition(nowFunc func() time.Time) Setter {
	return func(ctx context.Context, node *v1.Node) error {
		cfg, err := kubelabReadConfig()
		var want *kubelabCondition
		switch {
		case err != nil:
			want = &kubelabCondition{Status: string(v1.ConditionUnknown), Reason: "KubelabConfigInvalid", Message: err.Error()}
		case cfg != nil:
			want = cfg.Condition
		}
		at := -1
		for i := range node.Status.Conditions {
			if node.Status.Conditions[i].Type == KubelabConditionType {
				at = i
			}
		}
		if want == nil {
			if at >= 0 {
				node.Status.Conditions = append(node.Status.Conditions[:at], node.Status.Conditions[at+1:]...)
			}
			return nil
		}
		status := v1.ConditionStatus(want.Status)
		if status != v1.ConditionTrue && status != v1.ConditionFalse {
			status = v1.ConditionUnknown
		}
		now := metav1.NewTime(nowFunc())
		if at < 0 {
			node.Status.Conditions = append(node.Status.Conditions, v1.NodeCondition{Type: KubelabConditionType, LastTransitionTime: now})
			at = len(node.Status.Conditions) - 1
		}
		condition := &node.Status.Conditions[at]
		if condition.Status != status {
			condition.LastTransitionTime = now
		}
		condition.Status, condition.Reason, condition.Message, condition.LastHeartbeatTime = status, want.Reason, want.Message, now
		klog.FromContext(ctx).V(4).Info("kube-dev-lab: node condition", "type", KubelabConditionType, "status", status)
		return nil
	}
}
