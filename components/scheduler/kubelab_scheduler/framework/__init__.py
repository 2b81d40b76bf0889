"""The scheduling framework: statuses, the plugin interfaces per extension point, and the
runtime that runs a profile's plugins (upstream ``pkg/scheduler/framework``)."""
