using System.Text.Json;
using RewardKit.Generation;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Generation;

public sealed class PolicyGenerationTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-generate-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    static JsonElement[] Lines(string path) => [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void Every_prompt_gets_n_lines_with_its_text_response_token_count_and_log_probs()
    {
        var policy = PolicyTestData.Create();
        var prompts = PolicyTestData.PromptsFile(_dir);
        var output = Path.Combine(_dir, "out.jsonl");
        var options = new GenerateFileOptions { SamplesPerPrompt = 2, IncludeLogProbs = true, Sampling = new SamplingOptions { MaxNewTokens = 6, Seed = 1 } };
        var result = PolicyGeneration.GenerateFile(policy, prompts, output, options);
        var lines = Lines(output);
        Assert.Equal(2 * PolicyTestData.Topics.Length, lines.Length);
        Assert.Equal(lines.Length, result.Responses);
        Assert.Equal(lines.Sum(l => l.GetProperty("tokens").GetInt32()), result.Tokens);
        for (int i = 0; i < lines.Length; i++)
        {
            var l = lines[i];
            Assert.Equal($"p{i / 2}", l.GetProperty("id").GetString());
            Assert.Equal($"Tell me about {PolicyTestData.Topics[i / 2]}.", l.GetProperty("prompt").GetString());
            Assert.Equal(i % 2, l.GetProperty("sample").GetInt32());
            int tokens = l.GetProperty("tokens").GetInt32();
            Assert.InRange(tokens, 1, 6);
            Assert.Equal(tokens, l.GetProperty("logprobs").GetArrayLength());
            Assert.All(l.GetProperty("logprobs").EnumerateArray(), lp => Assert.True(lp.GetDouble() <= 0));
            if (tokens < 6) Assert.Equal("eos", l.GetProperty("finish_reason").GetString());
            _ = l.GetProperty("response").GetString();
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void The_file_is_the_same_for_any_batch_size_and_thread_count()
    {
        var policy = PolicyTestData.Create();
        var prompts = PolicyTestData.PromptsFile(_dir);
        string Run(int batch, int threads)
        {
            var output = Path.Combine(_dir, $"out-{batch}-{threads}.jsonl");
            using var pool = new WorkerPool(threads);
            PolicyGeneration.GenerateFile(policy, prompts, output, new GenerateFileOptions
            {
                BatchSize = batch, SamplesPerPrompt = 3, Sampling = new SamplingOptions { MaxNewTokens = 5, Seed = 9, TopK = 20 },
            }, pool);
            return File.ReadAllText(output);
        }
        var reference = Run(32, 1);
        Assert.Equal(reference, Run(2, 2));
        Assert.Equal(reference, Run(5, 1));
    }

    [Fact]
    public void Max_new_tokens_that_leave_no_room_for_a_prompt_are_refused_naming_the_flag()
    {
        var policy = PolicyTestData.Create(positions: 16);
        var e = Assert.Throws<ArgumentException>(() => PolicyGeneration.GenerateFile(policy, PolicyTestData.PromptsFile(_dir), Path.Combine(_dir, "o.jsonl"),
            new GenerateFileOptions { Sampling = new SamplingOptions { MaxNewTokens = 16 } }));
        Assert.Contains("--max-new-tokens", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "o.jsonl")));
    }

    [Fact]
    public void Prompts_longer_than_the_room_left_are_cut_from_the_left_and_counted()
    {
        var policy = PolicyTestData.Create(positions: 16);
        var output = Path.Combine(_dir, "o.jsonl");
        var result = PolicyGeneration.GenerateFile(policy, PolicyTestData.PromptsFile(_dir), output,
            new GenerateFileOptions { Sampling = new SamplingOptions { MaxNewTokens = 12, Greedy = true } });
        Assert.Equal(PolicyTestData.Topics.Length, result.TruncatedPrompts);
        Assert.Equal(PolicyTestData.Topics.Length, Lines(output).Length);
    }
}
