"""Pure analysis functions: arrays and tensors in, plain results out. No plotting, no I/O."""
