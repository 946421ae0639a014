"""scikit-learn 1.9's callback API (``sklearn.callback``) for the epochs.

``fit`` (or ``partial_fit``) is the root task; each epoch is a sub-task.
Callbacks see the data, the sample weights and, on request, a copy of the
estimator holding the weights reached at that point (``fitted_estimator``),
so ``ScoringMonitor`` scores every epoch and ``ProgressBar`` shows them.
A callback returning True from ``on_fit_task_end`` stops training.
"""


def wants_callbacks(estimator):
    return bool(getattr(estimator, "_skl_callbacks", None)) or hasattr(
        estimator, "_parent_callback_ctx"
    )


class EpochCallbacks:
    """Bridges the engine's epochs to the estimator's callback contexts."""

    def __init__(self, estimator, task_name, max_epochs, X, y, sample_weight,
                 snapshot):
        self.estimator = estimator
        self.X, self.y = X, y
        self.metadata = None if sample_weight is None else {
            "sample_weight": sample_weight}
        self.snapshot = snapshot  # t -> the fitted attributes at update t
        self.root = estimator._init_callback_context(
            task_name=task_name, max_subtasks=max_epochs)
        self.root.call_on_fit_task_begin(estimator=estimator, X=X, y=y,
                                         metadata=self.metadata)
        self.epoch_ctx = None

    def begin_epoch(self, t):
        """Before an epoch that starts at update ``t``."""
        self.epoch_ctx = self.root.subcontext(task_name="epoch")
        self.epoch_ctx.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes=lambda: self.snapshot(t))

    def end_epoch(self, t):
        """After an epoch, the next update being ``t``.  Returns True when a
        callback asks to stop."""
        return self.epoch_ctx.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes=lambda: self.snapshot(t))

    def finish(self):
        self.root.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes={})
