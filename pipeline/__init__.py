"""The Kubeflow pipeline (installed as alexnet_kfp.pipeline): the DAG, the train task's GPU
placement, compile, the local run and submit."""
