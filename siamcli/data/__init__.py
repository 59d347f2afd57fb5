"""Datasets on disk: folders of identities, sample loading, and verification pairs."""
