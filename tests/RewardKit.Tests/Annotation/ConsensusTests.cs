using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Tests.Annotation;

public class ConsensusTests
{
    static AnnotationLabel Vote(PairChoice choice, int strength = 2, string who = "x") =>
        new() { TaskId = "t", AnnotatorId = who, Answer = Choose(choice, strength) };

    static AnnotationLabel Ranked(params int[] ranks) => new() { TaskId = "t", AnnotatorId = "x", Answer = new AnnotationAnswer { Ranks = ranks } };

    [Fact]
    public void A_unanimous_much_better_vote_has_margin_1_and_weight_1()
    {
        var c = Consensus.Pairwise([Vote(PairChoice.B, 3), Vote(PairChoice.B, 3), Vote(PairChoice.B, 3)]);
        Assert.Equal(new PairConsensus(PairChoice.B, 1, 1), c);
    }

    [Fact]
    public void A_split_vote_keeps_the_majority_with_less_agreement_and_a_smaller_margin()
    {
        var c = Consensus.Pairwise([Vote(PairChoice.A, 2), Vote(PairChoice.A, 1), Vote(PairChoice.B, 1)]);
        Assert.Equal(PairChoice.A, c.Choice);
        Assert.Equal(2 / 3.0, c.Agreement, 12);
        Assert.Equal((2 + 1 - 1) / 9.0, c.Margin, 12);
    }

    [Fact]
    public void The_margin_is_never_negative_even_when_the_minority_votes_strongly()
    {
        var c = Consensus.Pairwise([Vote(PairChoice.A, 1), Vote(PairChoice.A, 1), Vote(PairChoice.B, 3)]);
        Assert.Equal(PairChoice.A, c.Choice);
        Assert.Equal(0, c.Margin);
    }

    [Theory]
    [InlineData(new[] { PairChoice.A, PairChoice.B }, 0.0)]
    [InlineData(new[] { PairChoice.Tie, PairChoice.Tie, PairChoice.A }, 2 / 3.0)]
    [InlineData(new[] { PairChoice.A, PairChoice.B, PairChoice.Tie }, 1 / 3.0)]
    public void A_draw_for_first_place_or_a_majority_for_tie_is_a_tie(PairChoice[] votes, double agreement)
    {
        var c = Consensus.Pairwise(votes.Select(v => Vote(v)).ToList());
        Assert.Equal(PairChoice.Tie, c.Choice);
        Assert.Equal(agreement, c.Agreement, 12);
        Assert.Equal(0, c.Margin);
    }

    [Fact]
    public void A_ranking_consensus_orders_by_mean_rank_and_ties_equal_means()
    {
        var c = Consensus.Ranking([Ranked(1, 2, 3, 4), Ranked(2, 1, 3, 4), Ranked(1, 3, 2, 4)], 4);
        Assert.Equal([4 / 3.0, 2, 8 / 3.0, 4], c.MeanRanks);
        Assert.Equal([0, 1, 2, 3], c.Ranks);
        var tied = Consensus.Ranking([Ranked(1, 2), Ranked(2, 1)], 2);
        Assert.Equal([0, 0], tied.Ranks);
        Assert.Equal(0.5, tied.Agreement, 12);
        Assert.Equal(1, Consensus.Ranking([Ranked(3, 1, 2), Ranked(3, 1, 2)], 3).Agreement, 12);
    }

    [Fact]
    public void Mean_ratings_average_each_response_over_the_annotators()
    {
        AnnotationLabel Rated(params int[] r) => new() { TaskId = "t", AnnotatorId = "x", Answer = new AnnotationAnswer { Ratings = r } };
        Assert.Equal([4.5, 2], Consensus.MeanRatings([Rated(5, 2), Rated(4, 2)], 2));
        Assert.Throws<ArgumentException>(() => Consensus.MeanRatings([], 2));
    }
}
