"""Writes src/test/resources/reference/schedules/*.json: learning rates computed by torch 1.13's lr_scheduler, for
LearningRateScheduleTorchTest. Run with Debian's python3, which imports Debian's python3-torch (torch 1.13):

    /usr/bin/python3 src/test/python/generate_lr_references.py

Each case builds an optimizer with two or three param groups, then plays events and records every group's lr:
  {"attach": SCHEDULE, "learningRates": [...]}   a new scheduler on the optimizer (torch steps it once: position 0)
  {"steps": [[...], ...]}                          scheduler.step() calls, the groups' lrs after each
  {"assign": [...]}                                param_group['lr'] = value for every group (a client's PATCH)
SCHEDULE is the service's wire format (camelCase, torch's defaults when a key is absent). The first attach sets each
group's initial_lr; later attaches keep it (torch's setdefault) and start at position 0 from the groups' current lr.
"""
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler

OUT = os.path.join(os.path.dirname(__file__), '..', 'resources', 'reference', 'schedules')
GROUPS2 = [0.1, 0.003]
GROUPS3 = [0.01, 0.25, 3e-4]


def scheduler(optimizer, spec):
    kind = spec['type']
    if kind == 'step':
        return lr_scheduler.StepLR(optimizer, spec['stepSize'], **opt(spec, gamma='gamma'))
    if kind == 'multiStep':
        return lr_scheduler.MultiStepLR(optimizer, spec['milestones'], **opt(spec, gamma='gamma'))
    if kind == 'exponential':
        return lr_scheduler.ExponentialLR(optimizer, spec['gamma'])
    if kind == 'cosine':
        return lr_scheduler.CosineAnnealingLR(optimizer, spec['tMax'], **opt(spec, eta_min='etaMin'))
    if kind == 'cosineWarmRestarts':
        return lr_scheduler.CosineAnnealingWarmRestarts(optimizer, spec['t0'],
                                                        **opt(spec, T_mult='tMult', eta_min='etaMin'))
    if kind == 'linear':
        return lr_scheduler.LinearLR(optimizer, **opt(spec, start_factor='startFactor', end_factor='endFactor',
                                                      total_iters='totalIters'))
    if kind == 'sequential':
        inner = [scheduler(optimizer, s) for s in spec['schedules']]
        return lr_scheduler.SequentialLR(optimizer, inner, milestones=spec['milestones'])
    raise ValueError(kind)


def opt(spec, **names):
    return {torch_name: spec[wire] for torch_name, wire in names.items() if wire in spec}


def run(name, lrs, script):
    params = [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in lrs]
    optimizer = torch.optim.Adam([{'params': [p], 'lr': lr} for p, lr in zip(params, lrs)], foreach=False)
    current = lambda: [g['lr'] for g in optimizer.param_groups]
    events = []
    sched = None
    for action in script:
        if action[0] == 'attach':
            sched = scheduler(optimizer, action[1])
            events.append({'attach': action[1], 'learningRates': current()})
        elif action[0] == 'steps':
            rows = []
            for _ in range(action[1]):
                optimizer.step()  # no gradients: changes nothing, keeps torch's call order
                sched.step()
                rows.append(current())
            events.append({'steps': rows})
        elif action[0] == 'assign':
            for group, value in zip(optimizer.param_groups, action[1]):
                group['lr'] = value
            events.append({'assign': action[1]})
    document = {'name': name, 'torch': torch.__version__, 'initialLearningRates': lrs, 'events': events}
    with open(os.path.join(OUT, name + '.json'), 'w') as out:
        json.dump(document, out, allow_nan=False)
        out.write('\n')


def single(name, spec, positions, lrs=GROUPS2):
    run(name, lrs, [('attach', spec), ('steps', positions)])


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def schedules():
    single('step-default-gamma', {'type': 'step', 'stepSize': 4}, 60)
    single('step-size-1-growing', {'type': 'step', 'stepSize': 1, 'gamma': 1.05}, 150, GROUPS3)
    single('step-size-7', {'type': 'step', 'stepSize': 7, 'gamma': 0.5}, 100)
    single('multistep-default-gamma', {'type': 'multiStep', 'milestones': [3, 10, 25]}, 60, GROUPS3)
    single('multistep-repeated-milestones', {'type': 'multiStep', 'milestones': [0, 4, 4, 11, 11, 11, 30],
                                             'gamma': 0.7}, 80)
    single('multistep-many', {'type': 'multiStep', 'milestones': list(range(5, 200, 7)), 'gamma': 0.9}, 200)
    single('exponential', {'type': 'exponential', 'gamma': 0.97}, 200, GROUPS3)
    single('exponential-growing', {'type': 'exponential', 'gamma': 1.01}, 150)
    single('cosine-default-eta-min', {'type': 'cosine', 'tMax': 10}, 200)
    single('cosine-eta-min', {'type': 'cosine', 'tMax': 7, 'etaMin': 1e-4}, 200, GROUPS3)
    single('cosine-t-max-1', {'type': 'cosine', 'tMax': 1, 'etaMin': 0.001}, 60)
    single('cosine-t-max-50', {'type': 'cosine', 'tMax': 50, 'etaMin': 2e-5}, 200)
    single('cosine-t-max-3', {'type': 'cosine', 'tMax': 3}, 120, GROUPS3)
    # Where glibc's cos is not correctly rounded (T_max 58 and 61) or differs from Java's Math.cos (56 and 61) on an
    # argument whose last bit reaches the lr of the group with lr 0.1.
    single('cosine-t-max-56', {'type': 'cosine', 'tMax': 56}, 120)
    single('cosine-t-max-58', {'type': 'cosine', 'tMax': 58}, 140)
    single('cosine-t-max-61', {'type': 'cosine', 'tMax': 61}, 130)
    single('cosine-warm-restarts-t0-61', {'type': 'cosineWarmRestarts', 't0': 61, 'tMult': 2}, 200)
    single('cosine-warm-restarts-defaults', {'type': 'cosineWarmRestarts', 't0': 5}, 100)
    single('cosine-warm-restarts-t-mult-3', {'type': 'cosineWarmRestarts', 't0': 3, 'tMult': 3, 'etaMin': 1e-5},
           200, GROUPS3)
    single('cosine-warm-restarts-t0-1', {'type': 'cosineWarmRestarts', 't0': 1, 'tMult': 2}, 130)
    single('cosine-warm-restarts-eta-min', {'type': 'cosineWarmRestarts', 't0': 10, 'tMult': 1, 'etaMin': 0.001}, 100)
    single('linear-defaults', {'type': 'linear'}, 50, GROUPS3)
    single('linear-decreasing', {'type': 'linear', 'startFactor': 1.0, 'endFactor': 0.1, 'totalIters': 20}, 60)
    single('linear-to-zero', {'type': 'linear', 'startFactor': 0.5, 'endFactor': 0.0, 'totalIters': 7}, 50)
    single('linear-one-iteration', {'type': 'linear', 'startFactor': 0.01, 'endFactor': 1.0, 'totalIters': 1}, 20)
    single('linear-long-warmup', {'type': 'linear', 'startFactor': 0.001, 'endFactor': 0.9, 'totalIters': 150}, 200)


@case
def sequential():
    linear = {'type': 'linear', 'startFactor': 0.1, 'endFactor': 1.0, 'totalIters': 5}
    single('sequential-warmup-cosine', {'type': 'sequential', 'milestones': [5], 'schedules': [
        linear, {'type': 'cosine', 'tMax': 30, 'etaMin': 1e-5}]}, 120, GROUPS3)
    single('sequential-warmup-cosine-61', {'type': 'sequential', 'milestones': [5], 'schedules': [
        linear, {'type': 'cosine', 'tMax': 61}]}, 140)
    single('sequential-linear-exponential-step', {'type': 'sequential', 'milestones': [4, 20], 'schedules': [
        linear, {'type': 'exponential', 'gamma': 0.95}, {'type': 'step', 'stepSize': 3, 'gamma': 0.5}]}, 100)
    single('sequential-restarts-exponential-multistep', {'type': 'sequential', 'milestones': [10, 30], 'schedules': [
        {'type': 'cosineWarmRestarts', 't0': 4, 'tMult': 2},
        {'type': 'exponential', 'gamma': 0.9},
        {'type': 'multiStep', 'milestones': [0, 2, 2, 6], 'gamma': 0.5}]}, 80, GROUPS3)
    single('sequential-step-restarts-linear', {'type': 'sequential', 'milestones': [7, 40], 'schedules': [
        {'type': 'step', 'stepSize': 2, 'gamma': 0.8},
        {'type': 'cosineWarmRestarts', 't0': 6, 'tMult': 1, 'etaMin': 1e-4},
        {'type': 'linear', 'startFactor': 0.5, 'endFactor': 0.2, 'totalIters': 10}]}, 90)
    single('sequential-cosine-cosine-exponential', {'type': 'sequential', 'milestones': [12, 13], 'schedules': [
        {'type': 'cosine', 'tMax': 6, 'etaMin': 0.002},
        {'type': 'cosine', 'tMax': 9},
        {'type': 'exponential', 'gamma': 0.99}]}, 60, GROUPS3)
    single('sequential-one-schedule', {'type': 'sequential', 'milestones': [], 'schedules': [
        {'type': 'cosine', 'tMax': 8}]}, 40)
    single('sequential-milestone-1', {'type': 'sequential', 'milestones': [1, 2], 'schedules': [
        {'type': 'linear', 'startFactor': 0.3}, {'type': 'step', 'stepSize': 1, 'gamma': 0.5},
        {'type': 'linear', 'startFactor': 0.2, 'endFactor': 0.8, 'totalIters': 3}]}, 30)


@case
def assigned_learning_rates():
    # A client assigns param_group['lr'] mid-run: chainable forms continue from it, closed forms ignore it.
    for name, spec in [
        ('step', {'type': 'step', 'stepSize': 3, 'gamma': 0.5}),
        ('multistep', {'type': 'multiStep', 'milestones': [5, 12, 12], 'gamma': 0.3}),
        ('exponential', {'type': 'exponential', 'gamma': 0.9}),
        ('cosine', {'type': 'cosine', 'tMax': 10, 'etaMin': 1e-4}),
        ('cosine-warm-restarts', {'type': 'cosineWarmRestarts', 't0': 4, 'tMult': 2, 'etaMin': 1e-5}),
        ('linear', {'type': 'linear', 'startFactor': 0.2, 'endFactor': 1.0, 'totalIters': 12}),
        ('sequential', {'type': 'sequential', 'milestones': [6, 15], 'schedules': [
            {'type': 'linear', 'startFactor': 0.25, 'totalIters': 6},
            {'type': 'cosine', 'tMax': 20, 'etaMin': 1e-5},
            {'type': 'exponential', 'gamma': 0.95}]}),
    ]:
        run('assign-' + name, GROUPS2, [
            ('attach', spec), ('steps', 3), ('assign', [0.05, 0.007]), ('steps', 8),
            ('assign', [0.2, 1e-3]), ('steps', 1), ('assign', [0.01, 0.02]), ('steps', 30)])
    # An assignment right before a sequential milestone, and one right after it.
    run('assign-at-sequential-milestones', GROUPS3, [
        ('attach', {'type': 'sequential', 'milestones': [5, 9], 'schedules': [
            {'type': 'exponential', 'gamma': 0.5}, {'type': 'step', 'stepSize': 2, 'gamma': 0.1},
            {'type': 'cosine', 'tMax': 4}]}),
        ('steps', 4), ('assign', [1.0, 2.0, 3.0]), ('steps', 1), ('assign', [0.5, 0.25, 0.125]), ('steps', 3),
        ('assign', [0.3, 0.2, 0.1]), ('steps', 20)])


@case
def reattached_schedules():
    # A new scheduler of another type attached mid-run: initial_lr stays the first one; position 0 again.
    run('attach-step-then-cosine', GROUPS2, [
        ('attach', {'type': 'step', 'stepSize': 3, 'gamma': 0.5}), ('steps', 10),
        ('attach', {'type': 'cosine', 'tMax': 20, 'etaMin': 1e-4}), ('steps', 40)])
    run('attach-exponential-then-linear', GROUPS3, [
        ('attach', {'type': 'exponential', 'gamma': 0.9}), ('steps', 7),
        ('attach', {'type': 'linear', 'startFactor': 0.5, 'endFactor': 1.0, 'totalIters': 10}), ('steps', 30)])
    run('attach-cosine-then-sequential', GROUPS2, [
        ('attach', {'type': 'cosine', 'tMax': 10}), ('steps', 6),
        ('attach', {'type': 'sequential', 'milestones': [3], 'schedules': [
            {'type': 'linear', 'startFactor': 0.1, 'totalIters': 3}, {'type': 'exponential', 'gamma': 0.8}]}),
        ('steps', 25)])
    run('attach-linear-then-warm-restarts', GROUPS2, [
        ('attach', {'type': 'linear', 'startFactor': 0.25, 'totalIters': 4}), ('steps', 2),
        ('attach', {'type': 'cosineWarmRestarts', 't0': 5, 'tMult': 2, 'etaMin': 1e-4}), ('steps', 40)])
    run('attach-after-assign-then-multistep', GROUPS3, [
        ('attach', {'type': 'cosine', 'tMax': 12}), ('steps', 5), ('assign', [0.04, 0.5, 1e-3]),
        ('attach', {'type': 'multiStep', 'milestones': [0, 3, 3, 8], 'gamma': 0.6}), ('steps', 12),
        ('attach', {'type': 'step', 'stepSize': 2, 'gamma': 2.0}), ('steps', 10)])


def main():
    warnings.simplefilter('ignore')  # torch warns about the scheduler-step order and SequentialLR's step(0)
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith('.json'):
            os.remove(os.path.join(OUT, old))
    for make in CASES:
        make()
    print(len(os.listdir(OUT)), 'files in', os.path.normpath(OUT), 'torch', torch.__version__)


if __name__ == '__main__':
    main()
