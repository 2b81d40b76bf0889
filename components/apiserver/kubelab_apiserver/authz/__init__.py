"""Chapter 7.2: authorization in kube-apiserver: a SubjectAccessReview webhook wired through
AuthorizationConfiguration, before RBAC."""
