<?php
use PHPUnit\Framework\TestCase;

/** The plugin's strings exist in English and Russian, with the same placeholders. */
final class LangTest extends TestCase {
    private static function strings(string $lang): array {
        $string = [];
        if (!defined('MOODLE_INTERNAL')) {
            define('MOODLE_INTERNAL', true);
        }
        include __DIR__ . "/../../outlooksync/lang/$lang/local_outlooksync.php";
        return $string;
    }

    public function test_every_english_string_has_a_russian_one_with_the_same_placeholders(): void {
        $en = self::strings('en');
        $ru = self::strings('ru');
        $this->assertSame(array_keys($en), array_keys($ru));
        foreach ($en as $key => $text) {
            preg_match_all('/\{\$a[^}]*\}/', $text, $want);
            preg_match_all('/\{\$a[^}]*\}/', $ru[$key], $have);
            $this->assertSame($want[0], $have[0], $key);
            $this->assertNotSame('', trim($ru[$key]), $key);
        }
    }
}
