"""Chapter 7.1: authentication in kube-apiserver: a token issuer whose JWTs kube-apiserver verifies
through AuthenticationConfiguration, and a TokenReview webhook authenticator."""
