using System.Text.Json;
using RewardKit.Models.Bert;
using RewardKit.Text;

namespace RewardKit.Tests.Models.Bert;

/// <summary>
/// The WordPiece tokenizer with the packaged MiniLM vocabulary against two references: tools/bert_wordpiece_fixtures.py
/// (a port of Hugging Face's slow BertTokenizer, run with Python's own unicodedata) on tricky strings and 300 non-ASCII
/// shared texts, and FastBertTokenizer 1.2.6 on every ASCII-only shared text (FastBertTokenizer strips accents with
/// string.Normalize, which does nothing under the project's invariant globalisation, so non-ASCII texts are the fixture's).
/// </summary>
public class WordPieceParityTests
{
    static readonly Lazy<WordPieceTokenizer> MiniLm = new(() => new WordPieceTokenizer(PackagedBackbones.ReadVocabulary(PackagedBackbones.MiniLM)));

    [PackagedBackboneFact]
    public void Ids_equal_the_python_bert_tokenizer_on_tricky_strings_and_non_ascii_shared_texts()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures", "wordpiece_minilm.jsonl");
        int lines = 0;
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var text = doc.RootElement.GetProperty("text").GetString()!;
            var expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = MiniLm.Value.Encode(text);
            Assert.True(expected.SequenceEqual(actual),
                $"line {lines + 1} ({text[..Math.Min(60, text.Length)]}...): [{string.Join(", ", actual.Take(30))}] vs Python [{string.Join(", ", expected.Take(30))}]");
            lines++;
        }
        Assert.Equal(327, lines);
    }

    [PackagedBackboneFact]
    public void Ids_equal_FastBertTokenizer_on_every_ascii_shared_text()
    {
        if (SharedData.Directory is null) return;   // the packaged fact already ran; the shared texts are optional here
        var fast = new FastBertTokenizer.BertTokenizer();
        fast.LoadVocabulary(new StringReader(string.Join("\n", PackagedBackbones.ReadVocabulary(PackagedBackbones.MiniLM))), true,
            "[UNK]", "[CLS]", "[SEP]", "[PAD]", System.Text.NormalizationForm.FormD);
        int compared = 0;
        foreach (var text in SharedTexts().Where(t => t.All(c => c < 128)))
        {
            var (ids, _, _) = fast.Encode(text, maximumTokens: 1_000_000);
            var expected = ids.ToArray().Skip(1).SkipLast(1).Select(i => (int)i).ToArray();   // drop [CLS] and [SEP]
            var actual = MiniLm.Value.Encode(text);
            Assert.True(expected.SequenceEqual(actual), $"{text[..Math.Min(80, text.Length)]}: [{string.Join(", ", actual.Take(30))}] vs FastBertTokenizer [{string.Join(", ", expected.Take(30))}]");
            compared++;
        }
        Assert.True(compared > 4000, $"only {compared} ASCII texts compared");
    }

    internal static IEnumerable<string> SharedTexts()
    {
        var texts = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "hh-rlhf-harmless-test.jsonl", "pandalm-test.jsonl", "oasst-en100-ranked.jsonl" })
            foreach (var line in File.ReadLines(SharedData.PathOf(Path.Combine("data", name))))
            {
                using var doc = JsonDocument.Parse(line);
                foreach (var key in new[] { "prompt", "chosen", "rejected" })
                    if (doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String) texts.Add(v.GetString()!);
                if (doc.RootElement.TryGetProperty("responses", out var rs))
                    foreach (var r in rs.EnumerateArray()) if (r.ValueKind == JsonValueKind.String) texts.Add(r.GetString()!);
            }
        return texts;
    }
}
