using RewardKit.Inference;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Tests.Inference;

public sealed class ConversationScorerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-conv-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static readonly Conversation ThreeTurns = new([
        new("user", "How do I boil an egg?"), new("assistant", "Put it in boiling water for nine minutes."),
        new("user", "And a soft one?"), new("assistant", "Six minutes, then cool it."),
        new("user", "Thanks!"), new("assistant", "You are welcome."),
    ]);

    /// <summary>A 2-layer untrained reward model folder with its own small tokenizer, opened through the one loader.</summary>
    IRewardModel Model(string template, int maxLength = 128, bool appendEndOfText = false)
    {
        var texts = ThreeTurns.Messages.Select(m => m.Content).Concat(["Human", "Assistant", "user", "assistant", "\n\n"]).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 320, MinFrequency = 1 });
        var config = new GptConfig { Layers = 2, EmbeddingSize = 32, Heads = 2, Positions = 128, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = Path.Combine(_dir, $"{template}-{maxLength}-{appendEndOfText}");
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 7), folder,
            new RewardModelMetadata { Template = template, MaxLength = maxLength, AppendEndOfText = appendEndOfText, RewardMean = 0.1, RewardStd = 2 },
            writeExtra: tokenizer.Save);
        return ModelLoading.Load(folder);
    }

    /// <summary>The reward of each turn's prefix scored alone: its own sequence, one forward pass each.</summary>
    static float[] PrefixRewards(IRewardModel model, Conversation conversation, int start = 0)
    {
        var encoder = ((GptRewardScorer)model).Sequences!;
        var rewards = new List<float>();
        foreach (int turn in conversation.AssistantTurns.Where(t => t >= start))
        {
            var context = conversation.Messages.Skip(start).Take(turn - start).ToArray();
            var ids = encoder.Encode(encoder.Template.RenderTurn(context, conversation.Messages[turn].Content))!.Ids;
            var reward = new float[1];
            model.ScoreTokens([ids], reward);
            rewards.Add(reward[0]);
        }
        return [.. rewards];
    }

    [Theory]
    [InlineData("hh")]
    [InlineData("plain")]
    [InlineData("chat")]
    public void Each_turns_reward_equals_scoring_that_prefix_alone_and_all_come_from_one_row(string template)
    {
        using var model = Model(template);

        var result = ConversationScorer.For(model).Score([ThreeTurns])[0];

        Assert.Equal([1, 3, 5], result.Turns.Select(t => t.MessageIndex));
        Assert.Equal(0, result.ExtraRows);
        Assert.False(result.Truncation.Truncated);
        var alone = PrefixRewards(model, ThreeTurns);
        for (int k = 0; k < alone.Length; k++) Assert.Equal(alone[k], result.Turns[k].Score.Raw, 1e-4);
        Assert.Equal(result.Turns[^1].Score, result.Reward);
        Assert.NotEqual(result.Turns[0].Score.Raw, result.Turns[1].Score.Raw);   // the positions really differ
    }

    [Fact]
    public void An_hh_turns_reward_equals_the_scorer_on_its_transcript_prompt_and_response()
    {
        using var model = Model("hh");
        var scorer = new RewardScorer(model);

        var result = ConversationScorer.For(model).Score([ThreeTurns])[0];

        for (int k = 0; k < 3; k++)
        {
            int turn = ThreeTurns.AssistantTurns[k];
            var prompt = Conversation.Transcript([.. ThreeTurns.Messages.Take(turn)]) + "\n\nAssistant:";
            var alone = scorer.Score(prompt, " " + ThreeTurns.Messages[turn].Content);
            Assert.Equal(alone.Raw, result.Turns[k].Score.Raw, 1e-4);
            Assert.Equal(alone.Normalized, result.Turns[k].Score.Normalized, 1e-4);
        }
    }

    [Fact]
    public void A_conversation_longer_than_the_context_drops_its_oldest_turns_first_and_says_so()
    {
        using var full = Model("hh");
        int needed = ((GptRewardScorer)full).Sequences!.Encode(ThreeTurns.Messages[0].Content, "")!.Length;   // sanity: the tokenizer works
        Assert.True(needed > 0);
        var lastTwo = ConversationScorer.For(full).Score([new Conversation([.. ThreeTurns.Messages.Skip(2)])])[0];
        using var model = Model("hh", maxLength: lastTwo.Tokens + 2);   // room for the last two turns, not all three

        var result = ConversationScorer.For(model).Score([ThreeTurns])[0];

        Assert.Equal(new ConversationTruncation(DroppedMessages: 2, DroppedTurns: 1, 0, 0), result.Truncation);
        Assert.Equal([3, 5], result.Turns.Select(t => t.MessageIndex));
        var alone = PrefixRewards(model, ThreeTurns, start: 2);
        for (int k = 0; k < alone.Length; k++) Assert.Equal(alone[k], result.Turns[k].Score.Raw, 1e-4);
    }

    [Fact]
    public void A_last_exchange_longer_than_the_context_is_cut_at_token_level_and_reported()
    {
        using var model = Model("hh", maxLength: 6);

        var result = ConversationScorer.For(model).Score([ThreeTurns])[0];

        Assert.Equal(4, result.Truncation.DroppedMessages);
        Assert.Equal(2, result.Truncation.DroppedTurns);
        Assert.True(result.Truncation.PromptTokensRemoved > 0);
        Assert.Equal(6, result.Tokens);
        Assert.Single(result.Turns);
    }

    [Fact]
    public void With_end_of_text_after_each_response_turns_get_rows_of_their_own_and_stay_exact()
    {
        using var model = Model("hh", appendEndOfText: true);

        var result = ConversationScorer.For(model).Score([ThreeTurns, new Conversation([new("user", "Hi"), new("assistant", "Hello")])]);

        Assert.Equal(2, result[0].ExtraRows);
        var alone = PrefixRewards(model, ThreeTurns);
        for (int k = 0; k < alone.Length; k++) Assert.Equal(alone[k], result[0].Turns[k].Score.Raw, 1e-4);
        Assert.Single(result[1].Turns);
    }

    [Fact]
    public void A_conversation_without_an_assistant_message_is_refused_with_its_index()
    {
        using var model = Model("hh");

        var e = Assert.Throws<ArgumentException>(() => ConversationScorer.For(model).Score([ThreeTurns, new Conversation([new("user", "Hi")])]));

        Assert.Contains("conversation 1", e.Message);
        Assert.Contains("no assistant message", e.Message);
    }

    [Fact]
    public void A_model_that_is_not_a_causal_gpt2_scorer_is_refused_saying_why()
    {
        var e = Assert.Throws<NotSupportedException>(() => ConversationScorer.For(new RewardKit.Testing.FakeRewardModel(new RewardModelMetadata { Name = "fake" })));

        Assert.Contains("causal GPT-2", e.Message);
    }

    [Fact]
    public void A_conversation_file_gets_per_turn_rewards_and_a_bad_line_is_named()
    {
        using var model = Model("hh");
        Directory.CreateDirectory(_dir);
        var input = Path.Combine(_dir, "conversations.jsonl");
        File.WriteAllLines(input, [
            """{"id": "a", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}""",
            """{"id": "b", "conversation": "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Thanks!\n\nAssistant: You are welcome."}""",
            """{"id": "c", "prompt": "\n\nHuman: Hi\n\nAssistant:", "response": " Hello"}""",
        ]);
        var output = Path.Combine(_dir, "out.jsonl");

        var summary = ConversationFile.Score(ConversationScorer.For(model), input, output);

        Assert.Equal(new ConversationFileResult(3, 4, 0, 0), summary);
        var lines = File.ReadAllLines(output).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToArray();
        Assert.Equal("b", (string)lines[1]["id"]!);
        Assert.Equal(2, lines[1]["turns"]!.AsArray().Count);
        Assert.Equal((double)lines[0]["reward"]!, (double)lines[1]["turns"]![0]!["reward"]!, 1e-4);   // same first turn, same reward
        Assert.Equal((double)lines[0]["reward"]!, (double)lines[2]["reward"]!, 1e-4);                  // prompt + response is that turn too
        Assert.False((bool)lines[0]["truncation"]!["truncated"]!);

        File.WriteAllLines(input, ["""{"messages": [{"role": "user", "content": "Hi"}]}"""]);
        var e = Assert.Throws<InvalidDataException>(() => ConversationFile.Score(ConversationScorer.For(model), input, output));
        Assert.Contains("conversations.jsonl:1", e.Message);
        Assert.Contains("no assistant message", e.Message);
    }
}
