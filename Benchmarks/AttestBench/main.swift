print("attest-bench: not yet written")
