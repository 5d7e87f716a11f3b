"""The regulation domain: vocabulary and rules, with no I/O."""
