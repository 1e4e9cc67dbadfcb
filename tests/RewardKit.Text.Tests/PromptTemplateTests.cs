using System.Text.Json;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class PromptTemplateTests
{
    [Fact]
    public void Plain_is_the_seeds_form_with_the_space_on_the_response_side()
    {
        var t = PromptTemplate.Plain.Render("How are you?", "Fine.");
        Assert.Equal("Human: How are you?\n\nAssistant: Fine.", t.Text);
        Assert.Equal("Human: How are you?\n\nAssistant:", t.Prompt);
        Assert.Equal(" Fine.", t.Response);
    }

    [Fact]
    public void Hh_keeps_transcripts_as_they_are()
    {
        var t = PromptTemplate.Hh.Render("\n\nHuman: hi\n\nAssistant:", " hello");
        Assert.Equal("\n\nHuman: hi\n\nAssistant: hello", t.Text);
        Assert.Equal(" hello", t.Response);
    }

    [Fact]
    public void Chat_renders_messages_and_ends_the_prompt_with_the_assistant_header()
    {
        var chat = PromptTemplate.Chat();
        var t = chat.Render([new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi")], "Hello!");
        Assert.Equal("<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n", t.Prompt);
        Assert.Equal("Hello!", t.Response);
    }

    [Fact]
    public void A_configured_chat_template_can_write_hh_transcripts()
    {
        var chat = PromptTemplate.Chat(ChatTemplate.HhStyle);
        var t = chat.Render([new ChatMessage("user", "hi"), new ChatMessage("assistant", "hello"), new ChatMessage("user", "bye")], "Goodbye");
        Assert.Equal("\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye\n\nAssistant: Goodbye", t.Text);
        Assert.EndsWith("Assistant:", t.Prompt);
        Assert.Equal(" Goodbye", t.Response);
    }

    [Fact]
    public void Chat_needs_the_last_message_to_be_the_response()
    {
        var e = Assert.Throws<ArgumentException>(() => PromptTemplate.Chat().Render([new ChatMessage("user", "hi")]));
        Assert.Contains("assistant", e.Message);
    }

    [Fact]
    public void A_chat_format_without_content_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PromptTemplate.Chat(new ChatTemplate { MessageFormat = "{role}" }));
    }

    [Fact]
    public void Templates_are_found_by_name_and_unknown_names_list_the_choices()
    {
        Assert.Same(PromptTemplate.Plain, PromptTemplate.FromName("plain"));
        Assert.Same(PromptTemplate.Hh, PromptTemplate.FromName("HH"));
        var e = Assert.Throws<ArgumentException>(() => PromptTemplate.FromName("alpaca"));
        Assert.Contains("plain, hh, chat", e.Message);
    }

    [SharedDataFact]
    public void Encoding_the_halves_of_hh_records_gives_the_tokens_of_the_whole_text()
    {
        var tok = Gpt2.Tokenizer;
        int checkedPairs = 0;
        foreach (var line in File.ReadLines(SharedData.PathOf("data/hh-rlhf-harmless-test.jsonl")).Take(100))
        {
            using var doc = JsonDocument.Parse(line);
            var prompt = doc.RootElement.GetProperty("prompt").GetString()!;
            foreach (var field in new[] { "chosen", "rejected" })
            {
                var t = PromptTemplate.Hh.Render(prompt, doc.RootElement.GetProperty(field).GetString()!);
                Assert.Equal(tok.Encode(t.Text), (int[])[.. tok.Encode(t.Prompt), .. tok.Encode(t.Response)]);
                checkedPairs++;
            }
        }
        Assert.Equal(200, checkedPairs);
    }

    [SharedDataFact]
    public void Encoding_the_halves_of_plain_text_gives_the_tokens_of_the_whole_text()
    {
        var tok = Gpt2.Tokenizer;
        var t = PromptTemplate.Plain.Render("What is 2+2?", "It is 4, I'm sure.");
        Assert.Equal(tok.Encode(t.Text), (int[])[.. tok.Encode(t.Prompt), .. tok.Encode(t.Response)]);
    }
}
