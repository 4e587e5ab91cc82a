"""Notes: the example resource that users own."""
