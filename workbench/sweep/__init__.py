"""Stage: hyperparameter sweeps (an Optuna study shared by workers), above train and below the CLI."""
