using RewardKit.Text;

namespace RewardKit.Text.Tests;

public sealed class ConversationTests
{
    [Fact]
    public void An_hh_transcript_parses_into_messages_and_writes_back_unchanged()
    {
        const string transcript = "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant: See you.";

        var conversation = Conversation.ParseTranscript(transcript);

        Assert.Equal([new ChatMessage("user", "Hi there"), new ChatMessage("assistant", "Hello!"), new ChatMessage("user", "Bye"), new ChatMessage("assistant", "See you.")],
            conversation.Messages);
        Assert.Equal([1, 3], conversation.AssistantTurns);
        Assert.Equal(transcript, Conversation.Transcript(conversation.Messages));
    }

    [Fact]
    public void A_transcript_may_start_without_the_blank_line_and_keeps_multi_paragraph_messages_whole()
    {
        var conversation = Conversation.ParseTranscript("Human: one\n\ntwo\n\nAssistant: three");

        Assert.Equal([new ChatMessage("user", "one\n\ntwo"), new ChatMessage("assistant", "three")], conversation.Messages);
    }

    [Fact]
    public void Text_before_the_first_speaker_is_refused_with_a_preview()
    {
        var e = Assert.Throws<FormatException>(() => Conversation.ParseTranscript("hello\n\nHuman: hi"));

        Assert.Contains("\"hello\"", e.Message);
    }

    [Fact]
    public void A_text_without_any_speaker_is_refused_with_the_expected_form()
    {
        var e = Assert.Throws<FormatException>(() => Conversation.ParseTranscript("just text"));

        Assert.Contains("Human:", e.Message);
    }

    [Theory]
    [InlineData("hh")]
    [InlineData("plain")]
    [InlineData("chat")]
    public void Each_templates_rendering_of_a_turn_starts_the_rendering_of_the_next(string name)
    {
        var template = PromptTemplate.FromName(name);
        var messages = Conversation.ParseTranscript("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d").Messages;

        var first = template.RenderTurn([.. messages.Take(1)], messages[1].Content);
        var second = template.RenderTurn([.. messages.Take(3)], messages[3].Content);

        Assert.StartsWith(first.Text, second.Text, StringComparison.Ordinal);
        Assert.EndsWith("d", second.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_hh_rendering_of_a_turn_is_the_transcript_prompt_and_the_spaced_response_the_data_readers_give()
    {
        var turn = PromptTemplate.Hh.RenderTurn([new ChatMessage("user", "a")], "b");

        Assert.Equal(new TemplatedText("\n\nHuman: a\n\nAssistant:", " b"), turn);
    }
}
