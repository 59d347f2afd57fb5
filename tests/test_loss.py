"""The contrastive loss, the miners and the distances, against values computed by hand."""

import pytest
import torch

from siamcli.core.distances import Cosine, Euclidean
from siamcli.core.losses import LOSSES, ContrastiveLoss
from siamcli.core.miners import MINERS, AllPairs, HardImpostors, Pairs
from siamcli.core.registry import Spec


def on_a_line(*positions: float) -> torch.Tensor:
    """One-dimensional embeddings: the distance between two of them is the gap between positions."""
    return torch.tensor([[p] for p in positions], requires_grad=True)


def test_contrastive_loss_matches_hand_computation() -> None:
    embeddings = torch.tensor([[0.0], [0.5], [0.3], [0.5 + 1.4]])
    labels = torch.tensor([0, 0, 1, 1])
    pairs = Pairs(torch.tensor([0, 2, 0, 1]), torch.tensor([1, 3, 2, 3]))
    # genuine (0,1)=0.5, (2,3)=1.6: mean(0.25, 2.56); impostor (0,2)=0.3 -> 0.49, (1,3)=1.4 -> 0
    loss = ContrastiveLoss(Euclidean(), margin=1.0)(embeddings, labels, pairs)
    assert loss.item() == pytest.approx((0.25 + 2.56) / 2 + 0.49 / 2, abs=1e-5)


def test_impostors_beyond_the_margin_and_genuine_at_zero_cost_nothing() -> None:
    embeddings = torch.tensor([[0.0], [0.0], [0.6], [2.0]])
    labels = torch.tensor([0, 0, 1, 2])
    pairs = Pairs(torch.tensor([0, 0, 0]), torch.tensor([1, 2, 3]))
    assert ContrastiveLoss(Euclidean(), margin=0.5)(embeddings, labels, pairs).item() == pytest.approx(0.0, abs=1e-5)


def test_gradient_pulls_genuine_together_and_pushes_impostors_apart() -> None:
    embeddings = on_a_line(0.0, 0.5, 1.0)
    labels = torch.tensor([0, 0, 1])
    pairs = Pairs(torch.tensor([0, 1]), torch.tensor([1, 2]))  # genuine at 0.5, impostor at 0.5
    ContrastiveLoss(Euclidean(), margin=1.0)(embeddings, labels, pairs).backward()
    # Genuine (x1 - x0)^2: gradient -1 on x0, +1 on x1. Impostor (1 - (x2 - x1))^2: +1 on x1, -1 on x2.
    # Descent moves x0 up towards x1, x1 down (towards x0, away from x2), x2 up away from x1.
    assert embeddings.grad[:, 0].tolist() == pytest.approx([-1.0, 2.0, -1.0], abs=1e-4)


def test_margins_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ContrastiveLoss(Euclidean(), margin=0)
    with pytest.raises(ValueError):
        HardImpostors(Euclidean(), margin=0)


def test_hard_impostors_keeps_all_genuine_pairs_and_only_impostors_inside_the_margin() -> None:
    embeddings = torch.tensor([[0.0, 0.0], [0.0, 0.1], [0.5, 0.0], [3.0, 0.0]])
    labels = torch.tensor([0, 0, 1, 1])
    pairs = HardImpostors(Euclidean(), margin=1.0)(embeddings, labels)
    # genuine: (0,1)=0.1, (2,3)=2.5; impostors inside 1.0: (0,2)=0.5, (1,2)=0.51; (0,3),(1,3) are beyond
    assert sorted(zip(pairs.first.tolist(), pairs.second.tolist())) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    assert len(AllPairs(Euclidean())(embeddings, labels).first) == 6


def test_losses_and_miners_are_built_by_name() -> None:
    loss = LOSSES.build(Spec("contrastive", {"margin": 0.7}), distance=Cosine())
    miner = MINERS.build(Spec("hard-impostors", {"margin": 0.7}), distance=Cosine())
    assert isinstance(loss, ContrastiveLoss) and loss.margin == 0.7 and loss.distance.name == "cosine"
    assert isinstance(miner, HardImpostors)
    with pytest.raises(ValueError, match="unknown loss 'triplet'"):
        LOSSES.build(Spec("triplet"), distance=Cosine())


def test_distances_on_known_vectors() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert Euclidean().paired(a, b).tolist() == pytest.approx([2**0.5, 1.0])
    assert Cosine().paired(a, b).tolist() == pytest.approx([1.0, 0.0], abs=1e-6)
    assert Euclidean().pairwise(a, b).flatten().tolist() == pytest.approx([2**0.5, 2**0.5, 1.0, 1.0])


def test_euclidean_gradient_is_finite_for_identical_embeddings() -> None:
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0, 0])
    pairs = HardImpostors(Euclidean())(x, labels)
    ContrastiveLoss(Euclidean())(x, labels, pairs).backward()
    assert torch.isfinite(x.grad).all()
