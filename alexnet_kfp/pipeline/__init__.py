"""The Kubeflow and command-line faces of the steps in alexnet_kfp.components."""
