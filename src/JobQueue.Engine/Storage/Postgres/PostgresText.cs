using System.Globalization;
using System.Text;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// Free text (names, worker ids, error messages, log lines) as PostgreSQL's text type can hold it.
/// PostgreSQL refuses U+0000 in text, which SQLite keeps, so a job named "a\0b" would fail on one
/// backend and not the other. Such text is stored with an escape character, U+FDD0 (a Unicode
/// noncharacter, which real text does not contain): U+0000 is stored as U+FDD0 '0' and U+FDD0
/// itself as U+FDD0 U+FDD0, and reading undoes it, so every string comes back exactly. A value
/// used only to search (a worker id to match, a name pattern) may also carry an unpaired
/// surrogate, which UTF-8 cannot encode: it becomes U+FDD0 'x' and four hex digits, which no
/// stored text can contain, so it matches nothing, as on SQLite. Text without U+0000 or U+FDD0
/// (all ordinary text) is stored unchanged, so hand-written SQL sees it as it is.
/// </summary>
internal static class PostgresText
{
    private const char Escape = '\uFDD0';

    public static string? Encode(string? text)
    {
        if (text is null || !NeedsEscaping(text)) return text;
        var builder = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == Escape)
            {
                builder.Append(Escape).Append(Escape);
            }
            else if (c == '\0')
            {
                builder.Append(Escape).Append('0');
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                builder.Append(Escape).Append('x').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    public static string[] Encode(IEnumerable<string?> texts) => texts.Select(Encode).ToArray()!;

    public static string? Decode(string? stored)
    {
        if (stored is null || stored.IndexOf(Escape) < 0) return stored;
        var builder = new StringBuilder(stored.Length);
        for (var i = 0; i < stored.Length; i++)
        {
            var c = stored[i];
            if (c == Escape && i + 1 < stored.Length)
            {
                var next = stored[i + 1];
                if (next == Escape || next == '0')
                {
                    builder.Append(next == '0' ? '\0' : Escape);
                    i++;
                    continue;
                }
                if (next == 'x' && i + 5 < stored.Length
                    && int.TryParse(stored.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    builder.Append((char)code);
                    i += 5;
                    continue;
                }
            }
            // A lone escape character (text written by hand) stays as it is.
            builder.Append(c);
        }
        return builder.ToString();
    }

    private static bool NeedsEscaping(string text) =>
        text.AsSpan().IndexOfAny('\0', Escape) >= 0 || TextRules.IndexOfLoneSurrogate(text) >= 0;
}
