"""Optimizers: per-sample epochs against scikit-learn's plain SGD, and
mini-batch Adam against torch.optim.Adam.

1. Dense 100k x 100 float64, log_loss, per-sample (batch_size=1): every
   sgdlearn optimizer vs scikit-learn's SGDClassifier (plain SGD, its
   defaults) measured in the same run.  Target: Adam <= 1.0x.
2. CSR 100k x 2**18, 50 non-zeros per row: lazy Adam per-sample vs
   scikit-learn's plain SGD.  Target: <= 1.0x.  Then mini-batches of 32
   and 256 on the same data (plain SGD, momentum, Adam), beside the same
   peer: no target, a check on the sparse mini-batch path.
3. Mini-batches of 256, Adam, same dense float64 data: sgdlearn vs a
   torch.nn.Linear(100, 1) model with BCEWithLogitsLoss and
   torch.optim.Adam, batches drawn from a fresh permutation every epoch,
   with torch.set_num_threads(1) and with torch's default thread count.
   Target: <= 0.1x.  Skipped if torch is not importable.
4. torch's NAdam, RAdam, Adamax and Adadelta (issue 15), per-sample, beside
   scikit-learn's plain SGD: dense (part 1's data) target <= 0.6x, CSR
   (part 2's data, lazy or closed-form updates) target <= 1.2x.

``fit`` times fit(max_iter=1), validation included; ``epoch`` is
(fit(max_iter=6) - fit(max_iter=1)) / 5.  The torch time is one epoch of
its training loop (model and optimizer creation included, conversion of
the data to tensors excluded).  Rates: learning_rate="constant" with the
eta0 below for sgdlearn (plain SGD keeps scikit-learn's "optimal"); no
penalty in part 3 (torch has none).
"""

import numpy as np
from _common import (
    SEED,
    best_of,
    compare,
    dense_data,
    footer,
    header,
    log_loss_accuracy,
    parse_args,
    qualities,
    quality,
    sparse_data,
    verdict,
)
from sklearn.linear_model import SGDClassifier

from sgdlearn import GDClassifier

EPOCHS = 6
ETA0 = {"momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1e-2, "rmsprop": 1e-3,
        "adam": 1e-3, "amsgrad": 1e-3, "adamw": 1e-3}
TORCH_RULES = {"nadam": 1e-3, "radam": 1e-3, "adamax": 2e-3, "adadelta": 1.0}


def per_sample(label, data, optimizer, repeats, target=None, batch_size=1):
    """sgdlearn ``optimizer`` per-sample (or with ``batch_size``) vs
    scikit-learn's plain SGD."""
    X, y = data.X, data.y_class
    common = dict(loss="log_loss", tol=None, random_state=SEED)
    ours = dict(common, optimizer=optimizer, batch_size=batch_size)
    if optimizer != "sgd":
        ours.update(learning_rate="constant",
                    eta0={**ETA0, **TORCH_RULES}[optimizer])
    best, models = best_of(
        {
            "ours": lambda: GDClassifier(max_iter=1, **ours).fit(X, y),
            "peer": lambda: SGDClassifier(max_iter=1, **common).fit(X, y),
            "ours_long": lambda: GDClassifier(max_iter=EPOCHS, **ours).fit(X, y),
            "peer_long": lambda: SGDClassifier(max_iter=EPOCHS, **common).fit(X, y),
        },
        repeats,
    )
    epoch = {who: (best[f"{who}_long"] - best[who]) / (EPOCHS - 1)
             for who in ("ours", "peer")}
    q = [quality(models[who], X, y, "log_loss") for who in ("ours", "peer")]
    line = (f"{label:<26} fit   {compare(best['ours'], best['peer'], 'sklearn-sgd')}"
            f" | epoch {compare(epoch['ours'], epoch['peer'], 'sklearn-sgd')}"
            f" | {qualities(*q)}")
    if target is not None:
        line += (f" | fit {verdict(best['ours'] / best['peer'], target)}, epoch "
                 f"{verdict(epoch['ours'] / epoch['peer'], target).split(': ')[1]}")
    print(line, flush=True)


def torch_epoch(torch, X, y, threads, batch_size=256, lr=1e-3, seed=SEED):
    """One epoch of mini-batch Adam on a fresh zero-initialised model;
    returns the decision values on X after it."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], 1).double()
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    order = torch.randperm(X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        batch = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(X[batch]).squeeze(1), y[batch])
        loss.backward()
        optimizer.step()
    return model


def versus_torch(data, repeats, target=0.1):
    try:
        import torch
    except ImportError as exc:
        print(f"mini-batch Adam vs torch: SKIPPED, torch is not importable ({exc})")
        return
    X, y = data.X, data.y_class
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.float64))
    default_threads = torch.get_num_threads()
    params = dict(loss="log_loss", optimizer="adam", batch_size=256, penalty=None,
                  learning_rate="constant", eta0=1e-3, tol=None,
                  random_state=SEED)
    best, models = best_of(
        {
            "ours": lambda: GDClassifier(max_iter=1, **params).fit(X, y),
            "ours_long": lambda: GDClassifier(max_iter=EPOCHS, **params).fit(X, y),
            "torch_1": lambda: torch_epoch(torch, Xt, yt, 1),
            "torch_default": lambda: torch_epoch(torch, Xt, yt, default_threads),
        },
        repeats,
    )
    torch.set_num_threads(default_threads)
    epoch = (best["ours_long"] - best["ours"]) / (EPOCHS - 1)
    q_ours = log_loss_accuracy(models["ours"].decision_function(X), y)
    for name, threads in (("torch_1", 1), ("torch_default", default_threads)):
        with torch.no_grad():
            q_torch = log_loss_accuracy(models[name](Xt).numpy(), y)
        peer = f"torch({threads}t)"
        print(f"{'adam batch 256 ' + peer:<26} fit   "
              f"{compare(best['ours'], best[name], peer)} | epoch "
              f"{compare(epoch, best[name], peer)} | "
              f"{qualities(q_ours, q_torch).replace('obj', 'logloss')} | fit "
              f"{verdict(best['ours'] / best[name], target)}, epoch "
              f"{verdict(epoch / best[name], target).split(': ')[1]}",
              flush=True)


def main():
    args = parse_args(__doc__, add_arguments=lambda parser: parser.add_argument(
        "--part", type=int, choices=[1, 2, 3, 4], action="append",
        help="run only these parts (repeatable; default all)"))
    parts = set(args.part or [1, 2, 3, 4])
    n = 20_000 if args.quick else 100_000
    header(f"bench_optimizers: per-sample optimizers and mini-batch Adam, n={n}",
           args)
    dense = dense_data(n, 100)
    sparse = sparse_data(n, 2**18, 50)
    if 1 in parts:
        for optimizer in ("sgd", *ETA0):
            per_sample(f"dense {optimizer}", dense, optimizer, args.repeats,
                       target=1.0 if optimizer == "adam" else None)
    if 2 in parts:
        per_sample("sparse lazy adam", sparse, "adam", args.repeats, target=1.0)
        for batch_size in (32, 256):
            for optimizer in ("sgd", "momentum", "adam"):
                per_sample(f"sparse {optimizer} batch {batch_size}", sparse,
                           optimizer, args.repeats, batch_size=batch_size)
    if 3 in parts:
        versus_torch(dense, args.repeats)
    for optimizer in TORCH_RULES if 4 in parts else ():
        per_sample(f"dense {optimizer}", dense, optimizer, args.repeats,
                   target=0.6)
        per_sample(f"sparse {optimizer}", sparse, optimizer, args.repeats,
                   target=1.2)
    footer()


if __name__ == "__main__":
    main()
