"""Datasets on disk, whatever the modality: folders of identities, splits, and verification pairs files."""
