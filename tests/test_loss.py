import pytest
import torch

from siamcli.core.distances import Cosine, Euclidean
from siamcli.core.losses import ContrastiveLoss
from siamcli.core.miners import PairMiner


def test_contrastive_loss_matches_hand_computation() -> None:
    loss = ContrastiveLoss(margin=1.0)
    distances = torch.tensor([0.5, 0.2, 0.3, 1.4])
    same = torch.tensor([True, True, False, False])
    # genuine: mean(0.25, 0.04) = 0.145; impostor: mean((1-0.3)^2, 0) = 0.245
    assert loss(distances, same).item() == pytest.approx(0.145 + 0.245)


def test_impostors_beyond_margin_cost_nothing_and_genuine_at_zero_cost_nothing() -> None:
    loss = ContrastiveLoss(margin=0.5)
    assert loss(torch.tensor([0.0, 0.6, 2.0]), torch.tensor([True, False, False])).item() == 0.0


def test_gradient_pulls_genuine_together_and_pushes_impostors_apart() -> None:
    distances = torch.tensor([0.5, 0.5], requires_grad=True)
    ContrastiveLoss(margin=1.0)(distances, torch.tensor([True, False])).backward()
    genuine_grad, impostor_grad = distances.grad.tolist()
    assert genuine_grad == pytest.approx(1.0)  # d/dd of d^2 at 0.5
    assert impostor_grad == pytest.approx(-1.0)  # d/dd of (1-d)^2 at 0.5


def test_margin_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ContrastiveLoss(margin=0)


def test_miner_keeps_all_genuine_pairs_and_only_impostors_inside_the_margin() -> None:
    embeddings = torch.tensor([[0.0, 0.0], [0.0, 0.1], [0.5, 0.0], [3.0, 0.0]])
    labels = torch.tensor([0, 0, 1, 1])
    distances, same = PairMiner(Euclidean(), margin=1.0)(embeddings, labels)
    # genuine: (0,1)=0.1, (2,3)=2.5; impostors inside 1.0: (0,2)=0.5, (1,2)=0.51; (0,3),(1,3) are beyond
    assert same.tolist().count(True) == 2
    assert same.tolist().count(False) == 2
    assert sorted(round(d, 3) for d in distances[~same].tolist()) == [0.5, 0.51]


def test_distances_on_known_vectors() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert Euclidean().paired(a, b).tolist() == pytest.approx([2**0.5, 1.0])
    assert Cosine().paired(a, b).tolist() == pytest.approx([1.0, 0.0], abs=1e-6)
    assert Euclidean().pairwise(a, b).flatten().tolist() == pytest.approx([2**0.5, 2**0.5, 1.0, 1.0])


def test_euclidean_gradient_is_finite_for_identical_embeddings() -> None:
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0]], requires_grad=True)
    distances, same = PairMiner(Euclidean(), margin=1.0)(x, torch.tensor([0, 0]))
    ContrastiveLoss()(distances, same).backward()
    assert torch.isfinite(x.grad).all()
