namespace Registration.Testing.Deployment;

/// <summary>
/// Docker Compose variable interpolation: <c>$$</c>, <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-default}</c>,
/// <c>${NAME-default}</c>, <c>${NAME:?error}</c>, <c>${NAME?error}</c>, <c>${NAME:+alternative}</c> and
/// <c>${NAME+alternative}</c>, defaults nested.
/// </summary>
public sealed class ComposeInterpolation(IReadOnlyDictionary<string, string> variables)
{
    private readonly HashSet<string> _referenced = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unsetWithoutDefault = new(StringComparer.Ordinal);

    /// <summary>Every variable name the interpolated text mentioned.</summary>
    public IReadOnlySet<string> Referenced => _referenced;

    /// <summary>Variables used bare (<c>$NAME</c>, <c>${NAME}</c>) while unset: compose would put an empty string.</summary>
    public IReadOnlySet<string> UnsetWithoutDefault => _unsetWithoutDefault;

    public string Interpolate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                i++;
                continue;
            }

            var next = text[i + 1];
            if (next == '$')
            {
                result.Append('$');
                i += 2;
            }
            else if (next == '{')
            {
                var end = ClosingBrace(text, i + 2);
                result.Append(Expand(text[(i + 2)..end]));
                i = end + 1;
            }
            else if (IsNameStart(next))
            {
                var end = i + 1;
                while (end < text.Length && IsNamePart(text[end]))
                {
                    end++;
                }

                result.Append(Lookup(text[(i + 1)..end], bare: true));
                i = end;
            }
            else
            {
                result.Append(c);
                i++;
            }
        }

        return result.ToString();
    }

    private string Expand(string expression)
    {
        var nameEnd = 0;
        while (nameEnd < expression.Length && IsNamePart(expression[nameEnd]))
        {
            nameEnd++;
        }

        var name = expression[..nameEnd];
        if (name.Length == 0 || !IsNameStart(name[0]))
        {
            throw new FormatException($"Invalid interpolation '${{{expression}}}'.");
        }

        var rest = expression[nameEnd..];
        if (rest.Length == 0)
        {
            return Lookup(name, bare: true);
        }

        _referenced.Add(name);
        var hasValue = variables.TryGetValue(name, out var value);
        var colon = rest.StartsWith(':');
        var op = colon ? rest[1..2] : rest[..1];
        var operand = rest[(colon ? 2 : 1)..];
        // With a colon, an empty value counts as unset.
        var set = hasValue && (!colon || !string.IsNullOrEmpty(value));
        return op switch
        {
            "-" => set ? value! : Interpolate(operand),
            "+" => set ? Interpolate(operand) : string.Empty,
            "?" => set ? value! : throw new InvalidOperationException($"Required variable {name} is not set: {operand}"),
            _ => throw new FormatException($"Invalid interpolation '${{{expression}}}'."),
        };
    }

    private string Lookup(string name, bool bare)
    {
        _referenced.Add(name);
        if (variables.TryGetValue(name, out var value))
        {
            return value;
        }

        if (bare)
        {
            _unsetWithoutDefault.Add(name);
        }

        return string.Empty;
    }

    private static int ClosingBrace(string text, int start)
    {
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '{')
            {
                depth++;
            }
            else if (text[i] == '}' && --depth == 0)
            {
                return i;
            }
        }

        throw new FormatException($"Unclosed '${{' in '{text}'.");
    }

    private static bool IsNameStart(char c) => c == '_' || char.IsAsciiLetter(c);

    private static bool IsNamePart(char c) => c == '_' || char.IsAsciiLetterOrDigit(c);
}
