using RewardKit.Evaluation;

namespace RewardKit.Tests.Evaluation;

public class ResponseOnlyBaselineTests
{
    [Fact]
    public void Features_are_lower_cased_words_numbers_and_marks_with_their_bigrams()
    {
        Assert.Equal(["sure", "!", "12", "cats", "sure_!", "!_12", "12_cats"], ResponseOnlyBaseline.Features("Sure! 12cats"));
    }

    [Fact]
    public void It_learns_a_style_word_from_the_responses_and_scores_unseen_words_zero()
    {
        // chosen responses say "thanks", rejected ones say "ugh"; the rest is shared noise
        var train = Enumerable.Range(0, 40).Select(i => ($"thanks item {i}", $"ugh item {i + 1}")).ToList();
        var baseline = ResponseOnlyBaseline.Fit(train);
        Assert.True(baseline.Score("thanks") > 0.5, $"score of 'thanks' is {baseline.Score("thanks")}");
        Assert.True(baseline.Score("ugh") < -0.5, $"score of 'ugh' is {baseline.Score("ugh")}");
        Assert.Equal(0, baseline.Score("never seen words"));
        Assert.Equal(1.0, baseline.Accuracy([("thanks a lot", "ugh a lot"), ("fine, thanks", "ugh, fine")]));
        Assert.Equal(0.5, baseline.Accuracy([("unknown", "unseen")])); // a tie counts half
    }

    [Fact]
    public void It_cannot_use_the_prompt_so_a_preference_that_depends_on_it_stays_at_chance()
    {
        // the same two responses, preferred one way for half the prompts and the other way for the rest
        var train = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? ("yes", "no") : ("no", "yes")).ToList();
        var baseline = ResponseOnlyBaseline.Fit(train);
        Assert.Equal(0.5, baseline.Accuracy(train), 6);
    }

    [Fact]
    public void Fitting_twice_gives_the_same_scores_and_bad_options_are_refused()
    {
        var train = Enumerable.Range(0, 20).Select(i => ($"good {i % 3}", $"bad {i % 5}")).ToList();
        Assert.Equal(ResponseOnlyBaseline.Fit(train).Score("good 1 bad 2"), ResponseOnlyBaseline.Fit(train).Score("good 1 bad 2"));
        Assert.Throws<ArgumentException>(() => ResponseOnlyBaseline.Fit([]));
        Assert.Throws<ArgumentException>(() => ResponseOnlyBaseline.Fit(train, new ResponseOnlyBaselineOptions { Iterations = 0 }));
    }
}
