"""The lab's sample controller: ConfigMaps labelled ``kubelab.dev/summarize=true`` get a
``<name>-summary`` ConfigMap with their key count, kept in sync (the analogue of
kubernetes/sample-controller, on this package's informer and workqueue)."""

from kubelab_client.sample_controller.controller import (
    SOURCE_LABEL,
    SUMMARY_OF_LABEL,
    SummaryController,
    desired_summary,
)

__all__ = ["SOURCE_LABEL", "SUMMARY_OF_LABEL", "SummaryController", "desired_summary"]
