using RewardKit.Models;

namespace RewardKit.Tests.Models;

public class TokenBatchTests
{
    [Fact]
    public void Last_token_rows_come_from_lengths_not_from_pad_ids()
    {
        // pad id 9 also appears as a real token: the last real rows must still be length − 1.
        var batch = TokenBatch.FromSequences([[1, 9, 2, 9], [4, 9]], padId: 9);
        Assert.Equal([3, 5], batch.LastTokenRows());
        Assert.Equal([1f, 1, 1, 1, 1, 1, 0, 0], batch.AttentionMask());
    }

    [Fact]
    public void Empty_sequences_and_responses_outside_the_row_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TokenBatch.FromSequences([[1], []]));
        Assert.Throws<ArgumentException>(() => TokenBatch.FromSequences([[1, 2]], responseStarts: [2]));
    }
}
