"""Running a training from the app: the config form, Start/Pause/Stop, the worker thread and the views its events feed."""
