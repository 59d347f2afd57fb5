"""The core: what every modality shares. Registries of encoders, losses and miners, the ensemble,
distances, identity batches, trials, thresholds, metrics, search and settings.

It knows nothing of the command line, and nothing of any one modality (siamcli/modalities/ registers
its networks here). Modules that need torch import it themselves, so trials, thresholds, metrics
and search stay usable (and fast to import) without it.
"""
