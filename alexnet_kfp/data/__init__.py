"""The data step: source archive -> verified, parsed, stratified Dataset directory."""
