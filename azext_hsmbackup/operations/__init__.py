"""What the commands do, with no argparse namespace in sight: one job's life (start, wait, show), several HSMs at
once, the pre-checks, and what a container keeps (list, prune, delete)."""
