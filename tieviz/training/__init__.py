"""What trains one model: corpus and tokenizer, the GPT-2 model, the loop, and the run store."""
