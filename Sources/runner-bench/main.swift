// Placeholder: the benchmark driver is being written.
print("runner-bench: not written yet")
