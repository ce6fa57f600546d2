"""Skills as artifacts: the spec, the compiler, the folder format."""
