using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary><c>score --conversation</c>: per-turn rewards of multi-turn conversations.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ScoreConversationCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-conv-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Score_conversation_prints_one_json_line_per_conversation_with_a_reward_per_assistant_turn()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var input = Path.Combine(_dir, "conversations.jsonl");
        File.WriteAllLines(input, [
            """{"id": 1, "conversation": "\n\nHuman: topic 1.\n\nAssistant: Sure.\n\nHuman: topic 2.\n\nAssistant: No."}""",
        ]);

        var (code, output, err) = ConsoleCapture.Run(["score", "--model", model, "--conversation", input]);

        Assert.True(code == CliApp.Success, err);
        var line = JsonDocument.Parse(output.Trim()).RootElement;
        var turns = line.GetProperty("turns");
        Assert.Equal(2, turns.GetArrayLength());
        Assert.Equal(3, turns[1].GetProperty("message").GetInt32());
        Assert.Equal(turns[1].GetProperty("reward").GetDouble(), line.GetProperty("reward").GetDouble());
        Assert.False(line.GetProperty("truncation").GetProperty("truncated").GetBoolean());
        Assert.Contains("scored 2 turns of 1 conversations", err);
    }

    [Fact]
    public void A_conversation_file_with_a_bad_line_fails_with_exit_code_1_naming_the_line()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var input = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(input, ["""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}""", """{"messages": 3}"""]);

        var (code, _, err) = ConsoleCapture.Run(["score", "--model", model, "--conversation", input, "--out", Path.Combine(_dir, "out.jsonl")]);

        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2", err);
        Assert.False(File.Exists(Path.Combine(_dir, "out.jsonl")));   // nothing half-written
    }
}
