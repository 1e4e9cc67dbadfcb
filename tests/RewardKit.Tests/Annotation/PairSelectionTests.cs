using RewardKit.Annotation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Testing;
using RewardKit.Tests.Inference;

namespace RewardKit.Tests.Annotation;

public sealed class PairSelectionTests
{
    [Theory]
    [InlineData("{\"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n\n{not json\n", ":3: invalid JSON")]
    [InlineData("[1, 2]\n", ":1: the record is not a JSON object")]
    [InlineData("{\"prompt\": \"p\", \"response_a\": \"a\"}\n", ":1: field 'response_b' is missing")]
    [InlineData("{\"prompt\": 3, \"chosen\": \"a\", \"rejected\": \"b\"}\n", ":1: field 'prompt' is not a string")]
    [InlineData("\n\n", "no records")]
    public void Bad_records_stop_the_read_with_file_and_line(string text, string expected)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["pool.jsonl"], text);
        var e = Assert.Throws<InvalidDataException>(() => PairSelection.Read(temp["pool.jsonl"]));
        Assert.StartsWith(temp["pool.jsonl"], e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Labelled_records_are_read_as_unlabelled_pairs_and_blank_lines_are_skipped()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["pool.jsonl"], "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"id\": 7}\n\n{\"prompt\": \"q\", \"response_a\": \"c\", \"response_b\": \"d\"}\n");
        var pairs = PairSelection.Read(temp["pool.jsonl"]);
        Assert.Equal([(1L, "p", "a", "b"), (3L, "q", "c", "d")], pairs.Select(p => (p.Line, p.Prompt, p.A, p.B)));
    }

    [Fact]
    public void Top_takes_the_highest_uncertainties_first_and_equal_ones_in_input_order()
    {
        Assert.Equal([3, 1, 4], PairSelection.Top([0.1, 0.5, 0.2, 0.9, 0.5], 3));
        Assert.Equal([1, 0], PairSelection.Top([0.1, 0.5], 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairSelection.Top([0.1], 0));
    }

    [Fact]
    public void Disagreement_picks_the_pairs_the_members_disagree_on_and_the_file_written_says_why()
    {
        using var temp = new TempDirectory();
        // member 0 rewards length, member 1 its negative: they disagree most where the responses' lengths differ most
        using var ensemble = new EnsembleRewardModel([new FunctionRewardModel(s => s.Length), new FunctionRewardModel(s => -s.Length)], new RewardModelMetadata { Name = "e" });
        File.WriteAllLines(temp["pool.jsonl"], [
            "{\"prompt\": \"p\", \"response_a\": \"abc\", \"response_b\": \"abd\"}",
            "{\"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"a much longer answer\"}",
            "{\"prompt\": \"p\", \"response_a\": \"abcd\", \"response_b\": \"ab\"}",
        ]);
        var pairs = PairSelection.Read(temp["pool.jsonl"]);

        var uncertainty = PairSelection.Uncertainty(ensemble, pairs, SelectionCriterion.Disagreement);
        var top = PairSelection.Top(uncertainty, 2);
        PairSelection.Write(temp["selected.jsonl"], pairs, uncertainty, top, SelectionCriterion.Disagreement);

        Assert.Equal([1, 2], top);
        Assert.Equal(0, uncertainty[0], 6);
        var lines = File.ReadAllLines(temp["selected.jsonl"]);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"source_line\":2", lines[0]);
        Assert.Contains("\"uncertainty_by\":\"disagreement\"", lines[0]);
    }

    [Fact]
    public void One_model_has_no_disagreement_but_p_one_minus_p_peaks_at_a_predicted_tie()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp["pool.jsonl"], [
            "{\"prompt\": \"p\", \"response_a\": \"abc\", \"response_b\": \"abd\"}",
            "{\"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"a much longer answer\"}",
        ]);
        var pairs = PairSelection.Read(temp["pool.jsonl"]);
        using var one = new FunctionRewardModel(s => s.Length);

        Assert.Throws<ArgumentException>(() => PairSelection.Uncertainty(one, pairs, SelectionCriterion.Disagreement));
        var uncertainty = PairSelection.Uncertainty(one, pairs, SelectionCriterion.Bernoulli);
        Assert.Equal(0.25, uncertainty[0], 6);
        Assert.True(uncertainty[1] < 0.01);
    }
}
