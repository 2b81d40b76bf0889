"""Admission inside kube-apiserver (Chapter 7.3): one pair of rules, enforced three ways.

- ``rules``: the rules themselves (the owner annotation defaults to the creator; no ConfigMap key
  may name a password), which ConfigMaps each way handles;
- ``webhook``: a mutating and a validating admission webhook (``/admission/mutate``,
  ``/admission/validate``) serving them;
- ``registrations``: their MutatingWebhookConfiguration and ValidatingWebhookConfiguration, and the
  same rules as a MutatingAdmissionPolicy and a ValidatingAdmissionPolicy (CEL), with bindings.

The third way is compiled into kube-apiserver: components/apiserver/kube-apiserver-plugin.
"""
