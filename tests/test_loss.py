"""The contrastive losses, the miners and the distances, against values computed by hand."""

import math

import pytest
import torch

from siamcli.core.distances import Cosine, Euclidean
from siamcli.core.losses import LOSSES, ContrastiveLoss, SupervisedContrastiveLoss
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


def test_supervised_contrastive_loss_matches_hand_computation() -> None:
    embeddings = on_a_line(0.0, 0.5, 1.0)
    labels = torch.tensor([0, 0, 1])
    loss = SupervisedContrastiveLoss(Euclidean(), temperature=0.5)  # similarity -d^2
    everything = AllPairs(Euclidean())(embeddings, labels)
    # Sample 0: its partner at -0.25 against the impostor at -1; sample 1: both at -0.25, so log 2;
    # sample 2 has no partner and says nothing.
    expected = (math.log(1 + math.exp(-0.75)) + math.log(2)) / 2
    assert loss(embeddings, labels, everything).item() == pytest.approx(expected, abs=1e-5)
    # The impostor pair (0, 2) not mined: sample 0's partner is alone in its softmax and costs nothing.
    fewer = Pairs(torch.tensor([0, 1]), torch.tensor([1, 2]))
    assert loss(embeddings, labels, fewer).item() == pytest.approx(math.log(2) / 2, abs=1e-5)


def test_supervised_contrastive_loss_is_the_papers_on_unit_embeddings() -> None:
    """Khosla et al. (2020), eq. 2, written with cosine similarities over the temperature."""
    embeddings = torch.nn.functional.normalize(torch.randn(12, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    embeddings.requires_grad_()
    labels = torch.arange(12) // 4
    loss = SupervisedContrastiveLoss(Euclidean(), temperature=0.1)(
        embeddings, labels, AllPairs(Euclidean())(embeddings, labels)
    )
    others = ~torch.eye(12, dtype=torch.bool)
    logits = (embeddings @ embeddings.T / 0.1).masked_fill(~others, float("-inf"))
    log_probability = logits - logits.logsumexp(dim=1, keepdim=True)
    partners = (labels[:, None] == labels[None, :]) & others
    paper = -(log_probability.masked_fill(~partners, 0).sum(dim=1) / partners.sum(dim=1)).mean()
    assert loss.item() == pytest.approx(paper.item(), rel=1e-5)
    loss.backward()
    assert torch.isfinite(embeddings.grad).all()


def test_supervised_contrastive_gradient_pulls_partners_together_and_pushes_impostors_apart() -> None:
    embeddings = on_a_line(0.0, 0.5, 1.0)
    labels = torch.tensor([0, 0, 1])
    SupervisedContrastiveLoss(Euclidean(), temperature=0.5)(
        embeddings, labels, AllPairs(Euclidean())(embeddings, labels)
    ).backward()
    gradient = embeddings.grad[:, 0]
    assert gradient[0] < 0 and gradient[2] < 0  # descent moves 0 up towards 1, and 2 up away from 1
    assert embeddings.grad.sum().item() == pytest.approx(0.0, abs=1e-6)  # distances alone: no net drift


def test_margins_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ContrastiveLoss(Euclidean(), margin=0)
    with pytest.raises(ValueError):
        HardImpostors(Euclidean(), margin=0)
    with pytest.raises(ValueError, match="temperature"):
        SupervisedContrastiveLoss(Euclidean(), temperature=0)


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
