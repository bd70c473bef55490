"""The CLI's exit codes: 0 success, 1 unexpected failure, 2 bad input (one line on stderr),
3 evaluation gate failed, 4 ONNX parity failed, 130/143 interrupted, 141 the reader of stdout
went away (`predict ... | head`): quietly, as shell tools do on SIGPIPE."""

EXIT_BAD_INPUT = 2
EXIT_GATE_FAILED = 3
EXIT_PARITY_FAILED = 4
EXIT_CLOSED_PIPE = 141
