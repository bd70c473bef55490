"""The evaluate step: test-set metrics, pictures, report and the accuracy gate."""
