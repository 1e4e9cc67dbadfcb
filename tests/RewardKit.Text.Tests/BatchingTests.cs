using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class BatchingTests
{
    static EncodedSequence Seq(int length, int responseStart) =>
        new(Enumerable.Range(10, length).ToArray(), responseStart, default);

    [Fact]
    public void Rows_are_padded_on_the_right_with_masks_and_last_token_indices()
    {
        var seqs = new[] { Seq(3, 1), Seq(5, 2), Seq(1, 0) };
        var b = PaddedBatch.Create(seqs, padId: 99);
        Assert.Equal(3, b.Rows);
        Assert.Equal(5, b.SequenceLength);
        Assert.Equal([10, 11, 12, 99, 99, 10, 11, 12, 13, 14, 10, 99, 99, 99, 99], b.InputIds);
        Assert.Equal([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], b.AttentionMask);
        Assert.Equal([2, 4, 0], b.LastTokenIndex);
        Assert.Equal([1, 2, 0], b.ResponseStart);
        Assert.Equal(6.0 / 15, b.PaddingFraction, 12);
        for (int row = 0; row < b.Rows; row++)
            Assert.Equal(1, b.AttentionMask[row * b.SequenceLength + b.LastTokenIndex[row]]);
    }

    [Fact]
    public void A_batch_can_take_a_subset_and_a_fixed_length()
    {
        var seqs = new[] { Seq(3, 1), Seq(5, 2), Seq(1, 0) };
        var b = PaddedBatch.Create(seqs, 99, [2, 0], padToLength: 4);
        Assert.Equal([2, 0], b.SourceIndices);
        Assert.Equal([10, 99, 99, 99, 10, 11, 12, 99], b.InputIds);
        Assert.Throws<ArgumentException>(() => PaddedBatch.Create(seqs, 99, padToLength: 4));
    }

    [SharedDataFact]
    public void Padding_with_gpt2_uses_the_pad_id_not_end_of_text()
    {
        var tok = Gpt2.Tokenizer;
        var enc = new SequenceEncoder(tok, new SequenceOptions { AppendEndOfText = true });
        var seqs = new[] { enc.Encode("\n\nHuman: hi\n\nAssistant:", " hello there")!, enc.Encode("\n\nHuman: a\n\nAssistant:", " b")! };
        var b = PaddedBatch.Create(seqs, tok.PadId);
        Assert.NotEqual(tok.EndOfTextId, tok.PadId);
        Assert.Equal(tok.EndOfTextId, b.InputIds[1 * b.SequenceLength + b.LastTokenIndex[1]]);
        Assert.Equal(tok.PadId, b.InputIds[2 * b.SequenceLength - 1]);
    }

    [Fact]
    public void Length_buckets_cover_every_sequence_once_and_are_deterministic()
    {
        var rng = new Random(3);
        var lengths = Enumerable.Range(0, 1000).Select(_ => rng.Next(5, 500)).ToArray();
        var options = new BatchingOptions { BatchSize = 8, BucketBatches = 16, Seed = 42 };
        var plan = LengthBuckets.Plan(lengths, options);
        Assert.Equal(Enumerable.Range(0, 1000), plan.Batches.SelectMany(b => b).Order());
        Assert.Equal(plan.Batches, LengthBuckets.Plan(lengths, options).Batches);
        Assert.NotEqual(plan.Batches, LengthBuckets.Plan(lengths, options with { Seed = 43 }).Batches);
    }

    [Fact]
    public void Length_buckets_waste_less_padding_than_random_batches()
    {
        var rng = new Random(5);
        var lengths = Enumerable.Range(0, 2000).Select(_ => rng.Next(5, 500)).ToArray();
        var bucketed = LengthBuckets.Plan(lengths, new BatchingOptions { BatchSize = 8, BucketBatches = 32 });
        var random = LengthBuckets.Plan(lengths, new BatchingOptions { BatchSize = 8, BucketBatches = 1 });
        Assert.True(bucketed.PaddingFraction < random.PaddingFraction / 3,
            $"bucketed {bucketed.PaddingFraction:P1}, random {random.PaddingFraction:P1}");
        Assert.Equal(lengths.Sum(), bucketed.RealTokens);
    }

    [Fact]
    public void Drop_last_leaves_out_the_short_batch()
    {
        var lengths = Enumerable.Repeat(10, 21).ToArray();
        Assert.Equal(3, LengthBuckets.Plan(lengths, new BatchingOptions { BatchSize = 8 }).Batches.Count);
        Assert.Equal(2, LengthBuckets.Plan(lengths, new BatchingOptions { BatchSize = 8, DropLast = true }).Batches.Count);
    }
}
