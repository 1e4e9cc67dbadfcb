using RewardKit.Distributed;

namespace RewardKit.Tests.Distributed;

public class SingleProcessCommunicatorTests
{
    [Fact]
    public void Every_collective_of_a_one_process_job_leaves_the_data_as_it_is()
    {
        var c = SingleProcessCommunicator.Instance;
        Assert.Equal((0, 1), (c.Rank, c.Size));
        float[] floats = [1.5f, -2f];
        double[] doubles = [3.25];
        byte[] bytes = [7, 8];
        c.AllreduceSum(floats);
        c.AllreduceSum(doubles);
        c.Broadcast(floats);
        c.Broadcast(bytes.AsSpan());
        c.Barrier();
        Assert.Equal([1.5f, -2f], floats);
        Assert.Equal([3.25], doubles);
        Assert.Equal([(byte)7, (byte)8], bytes);
        var gathered = Assert.Single(c.Gather(bytes));
        Assert.Equal(bytes, gathered);
    }

    [Fact]
    public void A_root_other_than_rank_0_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SingleProcessCommunicator.Instance.Broadcast(new float[1].AsSpan(), root: 1));
    }
}
