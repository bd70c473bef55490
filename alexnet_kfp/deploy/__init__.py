"""The deploy step: KServe InferenceService manifests (manifests.py) and applying one (apply.py)."""
