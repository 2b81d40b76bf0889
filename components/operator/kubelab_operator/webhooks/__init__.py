"""The webhooks (book 3.2, 3.3.3) on FastAPI: defaulting and validation of CronJobs
(AdmissionReview), conversion between versions (ConversionReview), served over TLS with
certificates the operator makes, injects and rotates itself (:mod:`.certs`)."""
