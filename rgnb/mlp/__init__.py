"""The MLP study (P1): pure MLP residual stacks trained on masked token prediction over Markov chains.

One module per concept:

- ``model``: the network (an MLP-Mixer residual stack, batched over models);
- ``step``: one training step of a batched ensemble (loss, AdamW, threads, fast paths);
- ``sweeps``: what is trained (``SweepConfig``, each profile's sweeps);
- ``tuning``: the tuning history of the budgets, read from ``results/tuning.json``;
- ``data``: a sweep's chains, seeds, training stream and fixed masked sets;
- ``train``: the loop, the evaluation against the Bayes floor, ``SweepResult``, the local cache;
- ``gate``: the convergence gate, premise of every finding;
- ``shipped``: the reference profile's shipped weights, checked by the numerics contract;
- ``golden``: the numerics contract's golden arrays;
- ``measure``: the findings' measurements of the residual streams;
- ``findings``: the three findings' statistics, claims, rows and tables;
- ``chapter``: the training chapter's claims and tables;
- ``bench``: the training-step benchmark.

``python -m rgnb.mlp --profile reference --ship results/reference`` trains a profile and ships it.
"""
