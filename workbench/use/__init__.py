"""Use a trained run: a small public API (load_run → embed, map, predict, evaluate), the exact answer search of
workbench-ask, and ONNX export. GUI-free; it sits beside workbench.sweep, above the trainer.

    import workbench
    run = workbench.load_run("runs/mq")
"""
