print("verity-bench: not yet written")
