using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class SequenceEncoderTests
{
    static readonly int[] Prompt = Enumerable.Range(100, 10).ToArray();   // 10 tokens
    static readonly int[] Response = Enumerable.Range(200, 5).ToArray();  // 5 tokens
    const int Eos = 7;

    [Fact]
    public void A_pair_that_fits_is_kept_whole_with_the_boundary()
    {
        var s = SequenceEncoder.Fit(Prompt, Response, new SequenceOptions { MaxLength = 20 }, Eos)!;
        Assert.Equal([.. Prompt, .. Response], s.Ids);
        Assert.Equal(10, s.ResponseStart);
        Assert.Equal(14, s.LastTokenIndex);
        Assert.False(s.Truncation.Truncated);
    }

    [Fact]
    public void An_overlong_pair_loses_the_start_of_the_prompt_and_keeps_the_response()
    {
        var report = new TruncationReport();
        var s = SequenceEncoder.Fit(Prompt, Response, new SequenceOptions { MaxLength = 8 }, Eos, report)!;
        Assert.Equal([107, 108, 109, .. Response], s.Ids);
        Assert.Equal(3, s.ResponseStart);
        Assert.Equal(new TruncationRecord(7, 0), s.Truncation);
        Assert.Equal(1, report.PromptTruncated);
        Assert.Equal(7, report.PromptTokensRemoved);
        Assert.Equal(0, report.ResponseTruncated);
    }

    [Fact]
    public void Only_a_response_longer_than_the_limit_loses_its_end()
    {
        var report = new TruncationReport();
        var s = SequenceEncoder.Fit(Prompt, Response, new SequenceOptions { MaxLength = 3 }, Eos, report)!;
        Assert.Equal([200, 201, 202], s.Ids);
        Assert.Equal(0, s.ResponseStart);
        Assert.Equal(new TruncationRecord(10, 2), s.Truncation);
        Assert.Equal(1, report.ResponseTruncated);
        Assert.Equal(2, report.ResponseTokensRemoved);
    }

    [Fact]
    public void End_of_text_is_appended_when_asked_and_counts_towards_the_limit()
    {
        var s = SequenceEncoder.Fit(Prompt, Response, new SequenceOptions { MaxLength = 8, AppendEndOfText = true }, Eos)!;
        Assert.Equal([108, 109, .. Response, Eos], s.Ids);
        Assert.Equal(Eos, s.Ids[s.LastTokenIndex]);
        Assert.Equal(8, s.Length);
    }

    [Fact]
    public void Drop_leaves_the_pair_out_and_counts_it()
    {
        var report = new TruncationReport();
        var options = new SequenceOptions { MaxLength = 8, OnOverflow = OverflowPolicy.Drop };
        Assert.Null(SequenceEncoder.Fit(Prompt, Response, options, Eos, report));
        Assert.NotNull(SequenceEncoder.Fit(Prompt[..2], Response, options, Eos, report));
        Assert.Equal(2, report.Sequences);
        Assert.Equal(1, report.Dropped);
        Assert.Equal(1, report.Affected);
        Assert.Contains("1 dropped", report.ToString());
    }

    [Fact]
    public void Error_names_the_record_and_the_fix()
    {
        var options = new SequenceOptions { MaxLength = 8, OnOverflow = OverflowPolicy.Error };
        var e = Assert.Throws<InvalidDataException>(() => SequenceEncoder.Fit(Prompt, Response, options, Eos, where: "pairs.jsonl:3 chosen"));
        Assert.Contains("pairs.jsonl:3 chosen", e.Message);
        Assert.Contains("max length", e.Message);
    }

    [Fact]
    public void A_max_length_too_small_for_end_of_text_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new SequenceOptions { MaxLength = 1, AppendEndOfText = true }.Validate());
        Assert.Contains("MaxLength", e.Message);
    }

    [Fact]
    public void The_encoder_renders_encodes_and_truncates_text()
    {
        var tok = TestCorpus.Tokenizer;
        var encoder = new SequenceEncoder(tok, new SequenceOptions { MaxLength = 6 }, PromptTemplate.Plain);
        var report = new TruncationReport();
        var s = encoder.Encode("the reward model prefers helpful answers", "ok", report)!;
        var response = tok.Encode(" ok");
        Assert.Equal(response, s.Ids[s.ResponseStart..]);
        Assert.Equal(6, s.Length);
        Assert.True(report.PromptTruncated == 1, report.ToString());
        Assert.EndsWith("Assistant:", tok.Decode(s.Ids[..s.ResponseStart]));
    }
}
