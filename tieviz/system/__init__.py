"""What tieviz needs from the machine: a torch device, CPU threads, a Chrome, files and disk use."""
