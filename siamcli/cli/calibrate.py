from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def calibrate_command(
    model: Annotated[Path, typer.Argument(help="Model file, or default:image for the shipped face model.")],
    data_dir: Annotated[Path, typer.Argument(help="Your own identities: one subfolder each.")],
    far: Annotated[
        Optional[float],
        typer.Option(min=0.0, max=1.0, help="Target false-accept rate on these pairs \\[default: 0.001]."),
    ] = None,
    eer: Annotated[bool, typer.Option("--eer", help="The equal-error point instead of a false-accept rate.")] = False,
    gallery: Annotated[
        Optional[Path],
        typer.Option("--gallery", "-g", help="Store the threshold in this gallery's collection for MODEL instead."),
    ] = None,
) -> None:
    """Pick the decision threshold on your own identities and store it in the model file (or, with
    --gallery, in that gallery's collection for the model)."""
    from siamcli.calibration import seen_in_training, threshold_for
    from siamcli.cli.output import note
    from siamcli.data.dataset import scan_dataset
    from siamcli.errors import SiamcliError
    from siamcli.gallery import Gallery
    from siamcli.model import load_model
    from siamcli.modelfile import update_meta
    from siamcli.models import REF_PREFIX

    if eer and far is not None:
        raise SiamcliError("give --far or --eer, not both")
    shipped = str(model).startswith(REF_PREFIX)
    if shipped and gallery is None:
        raise SiamcliError(
            f"{model}: the shipped model is part of siamcli; calibrate it into your gallery with --gallery"
        )
    loaded = load_model(model)
    dataset = scan_dataset(data_dir, loaded.modality.suffixes)
    seen = seen_in_training(loaded, dataset)
    if seen:
        note(
            f"warning: {len(seen)} of these identities were in the model's training ({', '.join(seen[:5])}"
            f"{', ...' if len(seen) > 5 else ''}): FAR and FRR here will look better than on people it never saw"
        )
    target_far = None if eer else (0.001 if far is None else far)
    if gallery is None:
        threshold = threshold_for(loaded, dataset, target_far)
        update_meta(model, {"threshold": threshold})
        where = str(model)
    else:
        with Gallery.open(gallery) as opened:
            collection = opened.collection(loaded.fingerprint)
            if collection is None:
                raise SiamcliError(f"{opened.path}: nobody is enrolled with {model} yet; enroll first, then calibrate")
            threshold = threshold_for(loaded, dataset, target_far)
            opened.set_threshold(collection, threshold)
        where = f"{opened.path} (collection of {collection.model})"
    note(
        f"threshold {threshold['value']:.4f} at {threshold['operating_point']}: FAR {threshold['far']:.2%}, "
        f"FRR {threshold['frr']:.2%} on {threshold['n_genuine']} genuine and {threshold['n_impostor']} impostor "
        f"pairs of {dataset.root}; stored in {where}"
    )
