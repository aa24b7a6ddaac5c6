"""One module per thing az hsm-backup talks to: the signed-in credential, the Managed HSM's backup data plane, blob
storage and ARM; and how what they say becomes one line and an exit code. SDK imports stay inside the functions."""
